"""One-time preparation: the starter guides' vectors cached per data folder, and the embedded
model's conversion in the background for a data folder setup did not prepare."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.rag import VectorStore
from lifecycle.rag.starter import STARTER_LABEL, cache_starter_vectors, ensure_starter
from lifecycle.rag.vector_cache import CachedEmbedder, cache_path

WAIT = 120  # s: a generous bound for a thread that does almost nothing


class Counting:
    """An embedder double: the real tiny embedder, counting the texts it embeds."""

    def __init__(self, inner) -> None:
        self.inner, self.texts = inner, 0
        self.ref, self.name, self.dimension = inner.ref, inner.name, inner.dimension
        self.max_tokens, self.model, self.lock = inner.max_tokens, inner.model, inner.lock

    def embed(self, texts, batch_size=32):
        self.texts += len(texts)
        return self.inner.embed(texts, batch_size)


def test_cached_vectors_are_the_embedders_and_are_embedded_once(tiny_embedder, tmp_path):
    counting = Counting(tiny_embedder)
    cached = CachedEmbedder(counting, tmp_path / "v.npz")
    texts = ["alpha", "beta", "alpha", "gamma"]
    first = cached.embed(texts)
    assert counting.texts == 4
    np.testing.assert_allclose(first, tiny_embedder.embed(texts), atol=1e-6)
    again = CachedEmbedder(counting, tmp_path / "v.npz").embed(["gamma", "alpha"])
    assert counting.texts == 4  # both known: read from the file, nothing embedded
    np.testing.assert_allclose(again, first[[3, 0]], atol=1e-6)
    assert cached.embed([]).shape == (0, tiny_embedder.dimension)


def test_a_damaged_or_foreign_cache_file_is_ignored(tiny_embedder, tmp_path):
    path = tmp_path / "v.npz"
    path.write_bytes(b"not a numpy file")
    counting = Counting(tiny_embedder)
    CachedEmbedder(counting, path).embed(["alpha"])
    assert counting.texts == 1
    np.savez(path, keys=np.array(["x"]), vectors=np.zeros((1, 7), dtype=np.float32))  # 7 dims
    CachedEmbedder(counting, path).embed(["alpha"])
    assert counting.texts == 2  # vectors of another size never reach a collection


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=40), max_size=6))
def test_any_texts_come_back_in_order_with_the_embedders_vectors(tiny_embedder, tmp_path, texts):
    cached = CachedEmbedder(tiny_embedder, tmp_path / "fuzz.npz")
    got = cached.embed(texts)
    assert got.shape == (len(texts), tiny_embedder.dimension)
    if texts:
        np.testing.assert_allclose(got, tiny_embedder.embed(texts), atol=1e-5)


def test_setup_caches_the_starter_so_a_new_project_embeds_nothing(tiny_embedder, isolated_home):
    counting = Counting(tiny_embedder)
    chunks = cache_starter_vectors(counting)
    assert chunks > 10 and counting.texts == chunks
    assert cache_path(tiny_embedder.ref).is_file()
    store = VectorStore()
    for project in ("p1", "p2"):
        coll, report = ensure_starter(store, project, counting)
        assert coll.info.label == STARTER_LABEL and report.chunks == chunks
    assert counting.texts == chunks  # both projects' starter collections came from the cache
    hits = store.open(store.find("p2", STARTER_LABEL).name, tiny_embedder)
    assert hits.chroma.count() == chunks


def test_the_background_conversion_reports_progress_then_finishes(monkeypatch):
    from lifecycle.models import sources
    from lifecycle.prepare import BackgroundConversion

    gate = threading.Event()

    def convert(on_step):
        on_step("De-quantizing the weights", 0.3)
        assert gate.wait(WAIT)
        on_step("Ready", 1.0)

    monkeypatch.setattr(sources, "convert_embedded", convert)
    job = BackgroundConversion()
    job.start()
    job.start()  # a second page asking does not start a second conversion
    deadline = time.monotonic() + WAIT
    while job.done < 0.3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.what == "De-quantizing the weights" and not job.finished
    gate.set()
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.finished and job.done == 1.0 and job.error == ""


def test_a_failed_conversion_says_why_and_can_start_again(monkeypatch):
    from lifecycle.models import sources
    from lifecycle.prepare import BackgroundConversion

    calls = []

    def convert(on_step):
        calls.append(1)
        if len(calls) == 1:
            raise sources.ModelLoadError("The embedded model package is missing")

    monkeypatch.setattr(sources, "convert_embedded", convert)
    job = BackgroundConversion()
    job.start()
    deadline = time.monotonic() + WAIT
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "package is missing" in job.error
    job.start()
    while (not job.finished or job.error) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 2 and job.error == ""


@pytest.mark.parametrize("fails", [False, True])
def test_prepare_cli_prints_steps_and_a_one_line_failure(monkeypatch, capsys, fails):
    from lifecycle import prepare

    def fake(on_step):
        on_step("Embedding the starter guides", 0.9)
        if fails:
            raise RuntimeError("disk full")

    monkeypatch.setattr(prepare, "prepare", fake)
    assert prepare.main() == (1 if fails else 0)
    out = capsys.readouterr()
    assert "Embedding the starter guides (90%)" in out.out
    assert ("Preparation did not finish: disk full" in out.err) == fails


def test_a_second_setup_loads_nothing(tiny_embedder, monkeypatch):
    from lifecycle import prepare
    from lifecycle.models import sources
    from lifecycle.rag import embedder as embedder_module
    from lifecycle.rag.embedder import EMBEDDED_EMBEDDER
    from lifecycle.rag.starter import starter_texts

    CachedEmbedder(tiny_embedder, cache_path(EMBEDDED_EMBEDDER)).embed(starter_texts())
    monkeypatch.setattr(sources, "embedded_ready", lambda: True)

    def refuse(ref):
        raise AssertionError("the embedder was loaded although every vector is cached")

    monkeypatch.setattr(embedder_module, "load_embedder", refuse)
    steps = []
    prepare.prepare(lambda what, done: steps.append((what, done)))
    assert steps[-1] == ("Ready", 1.0)
