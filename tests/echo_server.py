"""A loopback OpenAI-compatible server that echoes after a fixed delay (tests and bench)."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAKY = "flaky"  # a user message starting with this is refused once (HTTP 503), then answered


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers a chat completion with "echo: <last user message>" after the server's delay."""

    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        text = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        server = self.server
        with server.guard:
            server.seen.append(text)
            refuse = text.startswith(FLAKY) and server.seen.count(text) == 1
            server.in_flight += 1
            server.most_in_flight = max(server.most_in_flight, server.in_flight)
        try:
            time.sleep(server.delay_s)
        finally:
            with server.guard:
                server.in_flight -= 1
        if refuse:
            return self._send(503, {"error": {"message": "busy, try again"}})
        answer = {
            "choices": [
                {
                    "message": {"role": "assistant", "content": f"echo: {text}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": len(text.split()), "completion_tokens": 2},
        }
        self._send(200, answer)

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def echo_server(delay_s: float = 0.0):
    """Yields the running server (`.url` its /v1 base, `.seen`, `.most_in_flight`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = True
    server.delay_s, server.guard = delay_s, threading.Lock()
    server.seen, server.in_flight, server.most_in_flight = [], 0, 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
