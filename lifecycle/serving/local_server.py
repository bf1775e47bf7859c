"""A llama.cpp server on 127.0.0.1 that the app starts, health-checks and stops."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from lifecycle.atomic import file_lock
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
KEY_NAME = "LIFECYCLE_LOCAL_LLAMA_KEY"  # the registered endpoint's key name: read from key_file()
LOG_MAX_BYTES = 5 * 2**20  # then the log moves to llama-server.log.1 (one old log is kept)


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


def _lock_file() -> Path:
    return _folder() / "llama-server.lock"


def log_file() -> Path:
    """The server's output (load messages, errors)."""
    return _folder() / "llama-server.log"


# llama.cpp's own debug output: a thousand lines per request (one per graph tensor) would push
# every line a person wants (load errors, requests, speeds) out of the log view.
DEBUG_PREFIXES = (
    "create_tensor:",
    "llama_graph_",
    "graph_reserve:",
    "sched_reserve:",
    "resolve_fused_ops:",
    "llama_model_loader: - ",
    "load: control token",
)


def readable_log(limit: int) -> list[str]:
    """The log's last `limit` lines worth reading ([] when there is no log yet)."""
    try:
        lines = log_file().read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if not line.startswith(DEBUG_PREFIXES)][-limit:]


def key_file() -> Path:
    """The managed server's own API key (mode 0600): other local programs cannot use it."""
    return _folder() / "llama-server.key"


def server_key() -> str:
    """The managed server's API key, made once per data folder (random, 0600)."""
    path = key_file()
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = None
    except (OSError, UnicodeDecodeError):
        key = ""
    if key:
        return key
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".llama-server.key.")  # mode 0600
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(32))
        out.flush()
        os.fsync(out.fileno())
    try:
        if key == "":
            path.unlink(missing_ok=True)  # an empty or broken key file is replaced
        os.link(tmp, path)  # fails if another tab made one meanwhile: that one is used
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()


def endpoint_for(port: int, name: str = LOCAL_SERVER) -> Endpoint:
    """The endpoint settings that reach the managed server (with its own key)."""
    return Endpoint(
        name,
        f"http://127.0.0.1:{port}/v1",
        ALIAS,
        key_name=KEY_NAME,
        timeout_s=120.0,
        context_window=2048,
    )


def rotate_log() -> None:
    """Keep the log under LOG_MAX_BYTES: copy it to .log.1, then empty it in place.

    Emptied, not renamed: the running server appends to the same open file.
    """
    log = log_file()
    try:
        if log.stat().st_size <= LOG_MAX_BYTES:
            return
        shutil.copyfile(log, log.with_name(log.name + ".1"))
        os.truncate(log, 0)
    except OSError:
        pass  # no log yet, or a file system that refuses: the log is only for reading


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
    """True when the server lists its models to a request with its key."""
    auth = {"Authorization": f"Bearer {server_key()}"}
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers=auth, timeout=timeout_s)
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
    rotate_log()  # looked at on every Settings render: the log cannot grow for long
    ok = healthy(port)
    line = f"Running on 127.0.0.1:{port} (pid {pid}): " + ("healthy." if ok else "not answering.")
    return ServerState(True, ok, pid, port, info.get("model", ""), line)


def start(port: int, threads: int = 0, model: Path | None = None, n_ctx: int = 2048) -> ServerState:
    """Start the server for a GGUF (the embedded one by default) and wait until it answers."""
    if not llama_available():
        raise ServerError(missing_message())
    with file_lock(_lock_file()):  # two tabs pressing Start: the second finds the first's server
        return _start(port, threads, model, n_ctx)


def _start(port: int, threads: int, model: Path | None, n_ctx: int) -> ServerState:
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
    # The key goes in the environment, which only this user can read, not in the command line
    # that every local user sees in `ps`; the server's settings read API_KEY from there.
    env = {**os.environ, "API_KEY": server_key()}
    rotate_log()
    with open(log_file(), "ab") as log:
        proc = subprocess.Popen(
            cmd,
            env=env,
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
    _stop()
    raise ServerError(f"The llama.cpp server did not answer within {START_TIMEOUT_S:.0f} s.")


def stop() -> ServerState:
    """Stop the managed server (SIGTERM, then SIGKILL after 5 s)."""
    with file_lock(_lock_file()):
        return _stop()


def _stop() -> ServerState:
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
