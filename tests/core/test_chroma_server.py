"""The store against a real `chroma run` server: ingest, query, then a clear error once it stops."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lifecycle.rag import RagError, StoreConfig, VectorStore, add_documents, documents, retrieve
from lifecycle.rag.chunking import ChunkSettings
from lifecycle.rag.readers import SourceDoc

CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.fixture
def server(tmp_path):
    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    log = (tmp_path / "chroma.log").open("w")
    args = [str(CHROMA), "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1"]
    proc = subprocess.Popen([*args, "--port", str(port)], stdout=log, stderr=log, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat")
        yield proc, port
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_server_store_then_clear_error_when_it_stops(server, tiny_embedder):
    proc, port = server
    config = StoreConfig("server", "127.0.0.1", port)
    store = VectorStore(config)
    coll = store.create("p1", "Server docs", tiny_embedder, ChunkSettings("chars", 200, 20))
    texts = ["lora trains small adapters", "paris is the capital of france"]
    report = add_documents(coll, [SourceDoc(f"{i}.txt", t) for i, t in enumerate(texts)])
    assert report.chunks == 2 and [d.source for d in documents(coll)] == ["0.txt", "1.txt"]
    hits = retrieve(coll, "lora trains small adapters", 1)
    assert hits[0].source == "0.txt" and hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert [c.label for c in store.collections("p1")] == ["Server docs"]

    stop(proc)
    message = f"Chroma server at 127.0.0.1:{port} is not answering"
    with pytest.raises(RagError, match=message):
        store.collections("p1")
    with pytest.raises(RagError, match=message):
        retrieve(coll, "lora", 1)
    with pytest.raises(RagError, match="chroma run --path"):
        VectorStore(config)
