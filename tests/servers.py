"""Real loopback servers for the serving tests: llama.cpp's OpenAI server and misbehaving ones."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT_S = 1800  # the first build of llama.cpp: ~5-8 min on 2 cores, more when busy
START_TIMEOUT_S = 60


def ensure_llama() -> None:
    """Install llama-cpp-python[server] when missing (pip reuses its built wheel afterwards)."""
    if importlib.util.find_spec("llama_cpp") is not None:
        return
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r"]
        + [str(ROOT / "requirements-llama.txt")],
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    importlib.invalidate_caches()


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(gguf: Path, api_key: str, log: Path):
    """`python -m llama_cpp.server` on a free port until the block ends; yields its /v1 URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--api_key", api_key, "--model_alias", "smollm2"]
    cmd += ["--n_ctx", "2048"]
    with serving(cmd, port, log, api_key) as url:
        yield url


@contextmanager
def serving(cmd: list[str], port: int, log: Path, api_key: str = "", wait_s=START_TIMEOUT_S):
    """Any OpenAI-compatible server command on loopback `port`, answering /v1/models, until the
    block ends (stopped by PID, in its own process group); yields its /v1 URL."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        deadline = time.monotonic() + wait_s
        while True:
            assert proc.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"{url}/models", headers=headers).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer in time"
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


CHUNK = {"choices": [{"delta": {"content": "Hello"}, "finish_reason": None}]}
GOOD_KEY = "sk-good-key-1234567890"  # what the `auth` mode accepts


def _sse(*events) -> str:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


BEHAVIOURS = {
    # path prefix -> (status, content type, body)
    "html": (502, "text/html", "<html><head><title>502 Bad Gateway</title></head></html>"),
    "notjson": (200, "application/json", "this is not json"),
    "cutoff": (200, "text/event-stream", f"data: {json.dumps(CHUNK)}\n\n"),  # no [DONE]
    "nomodel": (404, "application/json", '{"error": {"message": "The model x does not exist"}}'),
    # Well-formed JSON in shapes no OpenAI server sends.
    "choicesdict": (200, "text/event-stream", _sse({"choices": {"delta": {"content": "x"}}})),
    "deltastr": (200, "text/event-stream", _sse({"choices": [{"delta": "Hello"}]})),
    "usagenum": (200, "text/event-stream", _sse(CHUNK, {"choices": [], "usage": 12})),
    "contentnum": (200, "text/event-stream", _sse({"choices": [{"delta": {"content": 7}}]})),
    "jsonshape": (200, "application/json", '{"choices": [{"message": "Hello"}]}'),
    "deepjson": (200, "application/json", "[" * 100_000 + "]" * 100_000),
    "longline": (
        200,
        "text/event-stream",
        _sse({"choices": [{"delta": {"content": "x" * 1_100_000}}]}),  # valid, but one huge line
    ),
}


class _Handler(BaseHTTPRequestHandler):
    """Answers by the first path segment: a BEHAVIOURS key, flaky, silent, auth or endless."""

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        mode = self.path.strip("/").split("/")[0]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if mode == "silent":
            time.sleep(5)  # longer than the test's timeout: the client gives up first
            return
        if mode == "auth":
            return self._auth()
        if mode == "endless":  # text until the client hangs up
            return self._endless()
        if mode == "flaky":  # 503 on the first request, then a proper stream
            self.server.hits += 1
            if self.server.hits == 1:
                return self._send(503, "application/json", '{"error": "warming up"}')
            done = f"data: {json.dumps(CHUNK)}\n\ndata: [DONE]\n\n"
            return self._send(200, "text/event-stream", done)
        self._send(*BEHAVIOURS[mode])

    def do_GET(self) -> None:
        if self.path.strip("/").split("/")[0] == "auth":
            return self._auth({"object": "list", "data": [{"id": "m"}]})
        self._send(404, "application/json", '{"error": "no such path"}')

    def _auth(self, answer: dict | None = None) -> None:
        """Refuse any key but GOOD_KEY, echoing what was sent (as careless servers do)."""
        sent = self.headers.get("Authorization", "")
        if sent != f"Bearer {GOOD_KEY}":
            error = {"error": {"message": f"Invalid API key: {sent!r} ({sent[-6:]})"}}
            return self._send(401, "application/json", json.dumps(error))
        if answer is not None:
            return self._send(200, "application/json", json.dumps(answer))
        self._send(200, "text/event-stream", _sse(CHUNK))

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        line = f"data: {json.dumps(CHUNK)}\n\n".encode()
        try:
            for _ in range(200_000):  # ~14 MB: far over the limit the test sets
                self.wfile.write(line)
        except OSError:  # the client stopped reading
            pass

    def _send(self, status: int, kind: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def odd_server():
    """A loopback HTTP server that misbehaves on purpose; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hits = 0
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
