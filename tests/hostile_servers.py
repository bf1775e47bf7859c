"""Loopback servers for the untrusted-text tests: a request recorder and a hostile endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "fake-model"


def hostile_answer(recorder: str) -> str:
    """A model answer that tries every way Markdown has to make the browser fetch `recorder`."""
    return (
        f"Look: ![x]({recorder}/img) and [click]({recorder}/link).\n"
        f'<img src="{recorder}/html"> <{recorder}/autolink> {recorder}/bare\n'
        f"![ref][r] **bold** $\\href{{{recorder}/math}}{{m}}$ "  # KaTeX's links and images
        f"$\\includegraphics{{{recorder}/tex}}$\n\n"
        f"[r]: {recorder}/definition\n"
    )


class _Recorder(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _record(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        self.send_response(204)
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_OPTIONS = _record  # noqa: N815 - http.server's names


class _Endpoint(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._send("application/json", json.dumps({"data": [{"id": MODEL}]}))

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        answer = self.server.answer
        if not body.get("stream"):
            choice = {"message": {"content": answer}, "finish_reason": "stop"}
            return self._send("application/json", json.dumps({"choices": [choice]}))
        words = [answer[i : i + 7] for i in range(0, len(answer), 7)]  # token-sized pieces
        events = [{"choices": [{"delta": {"content": w}, "finish_reason": None}]} for w in words]
        events.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
        stream = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self._send("text/event-stream", stream)

    def _send(self, kind: str, text: str) -> None:
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def _serving(handler, **attributes) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for name, value in attributes.items():
        setattr(server, name, value)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A server that answers 204 to anything; yields its URL and the requests it received."""
    with _serving(_Recorder, requests=[]) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests


@contextmanager
def markdown_endpoint(answer: str) -> Iterator[str]:
    """An OpenAI-compatible server that streams `answer` to every chat request; yields /v1."""
    with _serving(_Endpoint, answer=answer) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
