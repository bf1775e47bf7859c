"""Upload forms parse a file once per content: reruns reuse the rows, the text or the refusal."""

from __future__ import annotations

import pytest

import lifecycle.rag
from components import resources
from lifecycle.evaluation import datasets
from lifecycle.evaluation.datasets import DatasetError
from lifecycle.rag import ChunkSettings, RagError, readers


@pytest.fixture
def counted(monkeypatch):
    """Count calls of the parsers behind the upload caches (which start empty)."""
    calls = []
    read_table, read_upload = datasets.read_table, readers.read_upload
    monkeypatch.setattr(datasets, "read_table", lambda *a: calls.append(a[1]) or read_table(*a))
    monkeypatch.setattr(readers, "read_upload", lambda *a: calls.append(a[0]) or read_upload(*a))
    caches = (resources._table_verdict, resources._document_verdict, resources._chunk_summary)
    for cache in caches:
        cache.clear()
    yield calls
    for cache in caches:
        cache.clear()


def test_a_table_and_its_refusal_are_parsed_once(counted):
    raw = b"input,output\nhello,hi\n"
    assert resources.uploaded_table("a.csv", raw) == [{"input": "hello", "output": "hi"}]
    assert resources.uploaded_table("a.csv", raw) == [{"input": "hello", "output": "hi"}]
    bad = b"input,output\nhello,hi,extra\n"
    for _ in range(2):
        with pytest.raises(DatasetError, match="Line 2 has 3 fields"):
            resources.uploaded_table("b.csv", bad)
    assert counted == ["a.csv", "b.csv"]


def test_a_document_and_its_refusal_are_read_once(counted):
    for _ in range(2):
        assert resources.uploaded_document("a.md", b"# Title\n\ntext").text == "# Title\n\ntext"
        with pytest.raises(RagError, match="empty"):
            resources.uploaded_document("b.md", b"")
    assert counted == ["a.md", "b.md"]


def test_a_document_is_split_once_per_chunk_settings(monkeypatch, counted):
    preview = lifecycle.rag.preview
    monkeypatch.setattr(lifecycle.rag, "preview", lambda *a: counted.append(a[1]) or preview(*a))
    doc = resources.uploaded_document("a.md", b"# Title\n\n" + b"word " * 200)
    small, big = ChunkSettings("chars", 100, 10), ChunkSettings("chars", 400, 10)
    for _ in range(2):
        count, mean, heads = resources.chunk_summary(doc, small)
        assert count == 12 and 0 < mean <= 100 and heads[0].startswith("# Title")
        assert resources.chunk_summary(doc, big)[0] == 4
    assert counted == ["a.md", small, big]
