"""A llama.cpp server on 127.0.0.1 that the app starts, health-checks and stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from lifecycle.config import data_home
from lifecycle.serving.llamacpp import (
    default_threads,
    gguf_path,
    llama_available,
    missing_message,
)
from lifecycle.settings import LOCAL_SERVER, Endpoint

ALIAS = "smollm2-135m-instruct"  # the model name the managed server answers to
START_TIMEOUT_S = 60.0  # it loads the 135M GGUF in under a second; allow a busy machine


class ServerError(RuntimeError):
    """The local server cannot start or stop; the message says why."""


@dataclass(frozen=True)
class ServerState:
    """What the pid file and a health probe say."""

    running: bool
    healthy: bool
    pid: int = 0
    port: int = 0
    model: str = ""
    line: str = ""


def _folder() -> Path:
    folder = data_home() / "serving"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pid_file() -> Path:
    return _folder() / "llama-server.json"


def log_file() -> Path:
    """The server's output (load messages, errors)."""
    return _folder() / "llama-server.log"


def endpoint_for(port: int, name: str = LOCAL_SERVER) -> Endpoint:
    """The endpoint settings that reach the managed server."""
    return Endpoint(
        name, f"http://127.0.0.1:{port}/v1", ALIAS, timeout_s=120.0, context_window=2048
    )


def _alive(pid: int) -> bool:
    """True when pid is still a llama.cpp server (not a reused pid of another program)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"llama_cpp.server" in cmdline


def port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def healthy(port: int, timeout_s: float = 2.0) -> bool:
    """True when the server lists its models."""
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return r.status_code == 200


def state() -> ServerState:
    """Is the managed server running, and does it answer?"""
    try:
        info = json.loads(_pid_file().read_text())
    except (OSError, ValueError):
        return ServerState(False, False, line="Not running.")
    pid, port = int(info.get("pid", 0)), int(info.get("port", 0))
    if not pid or not _alive(pid):
        return ServerState(False, False, line="Not running (its process has ended).")
    ok = healthy(port)
    line = f"Running on 127.0.0.1:{port} (pid {pid}): " + ("healthy." if ok else "not answering.")
    return ServerState(True, ok, pid, port, info.get("model", ""), line)


def start(port: int, threads: int = 0, model: Path | None = None, n_ctx: int = 2048) -> ServerState:
    """Start the server for a GGUF (the embedded one by default) and wait until it answers."""
    if not llama_available():
        raise ServerError(missing_message())
    current = state()
    if current.running and current.port == port:
        return current
    if current.running:
        raise ServerError(
            f"The local server already runs on port {current.port}: stop it first to move it."
        )
    if not port_free(port):
        raise ServerError(f"Port {port} is in use by another program: pick another in Settings.")
    model = model or gguf_path()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--model_alias", ALIAS]
    cmd += ["--n_ctx", str(n_ctx), "--n_threads", str(threads or default_threads())]
    with open(log_file(), "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends it and its threads
        )
    info = {"pid": proc.pid, "port": port, "model": str(model), "started": time.time()}
    _pid_file().write_text(json.dumps(info))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"The llama.cpp server exited at start: {_log_tail()}")
        if healthy(port, 1.0):
            return state()
        time.sleep(0.2)
    stop()
    raise ServerError(f"The llama.cpp server did not answer within {START_TIMEOUT_S:.0f} s.")


def stop() -> ServerState:
    """Stop the managed server (SIGTERM, then SIGKILL after 5 s)."""
    current = state()
    if current.running:
        try:
            os.killpg(current.pid, signal.SIGTERM)
            for _ in range(50):
                if not _alive(current.pid):
                    break
                time.sleep(0.1)
            else:
                os.killpg(current.pid, signal.SIGKILL)
            _reap(current.pid)
        except ProcessLookupError:
            pass
    _pid_file().unlink(missing_ok=True)
    return ServerState(False, False, line="Stopped.")


def _reap(pid: int) -> None:
    """Collect the exit status when this process started the server (no zombie left)."""
    for _ in range(20):
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:  # started by an earlier run of the app: init reaps it
            return
        time.sleep(0.1)


def _log_tail(lines: int = 5) -> str:
    try:
        return " | ".join(log_file().read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"
