"""Loads in two threads at once import transformers once, under one lock (a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import link_embedded

REPO = Path(__file__).resolve().parents[2]

# The RAG page loads its answering model beside its embedder, each in a background thread; the
# first import of transformers then raced: "cannot import name 'AutoModelForCausalLM'".
SCRIPT = """
import threading
from lifecycle.models.loader import load_raw
from lifecycle.models.sources import resolve, EMBEDDED
from lifecycle.rag.embedder import load_embedder, EMBEDDED_EMBEDDER
errors = []
def run(work):
    try:
        work()
    except Exception as err:
        errors.append(repr(err))
jobs = [lambda: load_raw(resolve(EMBEDDED)), lambda: load_embedder(EMBEDDED_EMBEDDER)]
threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
[t.start() for t in threads]
[t.join() for t in threads]
print("ERRORS", errors)
"""


@pytest.mark.embedded
def test_a_model_and_an_embedder_load_in_two_threads_at_once(embedded_models, tmp_path):
    home = tmp_path / "home"
    link_embedded(embedded_models, home)
    env = {"LIFECYCLE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ERRORS []" in done.stdout, done.stdout[-3000:]
