"""Loads in two threads at once import transformers once, under one lock (a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import link_embedded

REPO = Path(__file__).resolve().parents[2]
LOAD_LIMIT = 600  # s: a load on a busy machine

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


def _waits_for_a_build_under_way(load) -> None:
    """`load` in a thread does not finish while this thread holds the build lock, then does."""
    from lifecycle.heavy_imports import building

    done = threading.Event()
    thread = threading.Thread(target=lambda: (load(), done.set()), daemon=True)
    with building():
        thread.start()
        # Unlocked, these loads end well within this on a quiet machine; on a slow one the
        # check is merely weaker, never wrong.
        assert not done.wait(3.0), "it built a model while another build was under way"
    thread.join(LOAD_LIMIT)
    assert done.is_set()


@pytest.mark.embedded
def test_every_in_process_build_of_weights_waits_for_the_one_under_way(tiny_causal, isolated_home):
    """transformers and accelerate build on the meta device with process-wide patches: a second
    model built meanwhile got meta tensors ("Cannot copy out of meta tensor; no data!")."""
    from lifecycle.alignment.reward import EMBEDDED_EMBEDDER as REWARD_EMBEDDER
    from lifecycle.alignment.reward import load_embedder as reward_embedder
    from lifecycle.models.loader import load_raw
    from lifecycle.models.sources import resolve
    from lifecycle.rag.embedder import EMBEDDED_EMBEDDER, load_embedder
    from lifecycle.selection.configs import _meta_params

    load_raw(resolve(str(tiny_causal)))  # imports and first-use costs paid outside the checks
    _waits_for_a_build_under_way(lambda: load_raw(resolve(str(tiny_causal))))
    _waits_for_a_build_under_way(lambda: load_embedder(EMBEDDED_EMBEDDER))
    reward_embedder.cache_clear()
    _waits_for_a_build_under_way(lambda: reward_embedder(REWARD_EMBEDDER))
    config = (tiny_causal / "config.json").read_text()
    _meta_params.cache_clear()
    _waits_for_a_build_under_way(lambda: _meta_params(config, "decoder-only"))
