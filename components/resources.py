"""Every @st.cache_resource loader and upload parse cache of the app (shared by all sessions)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import streamlit as st

from lifecycle.config import data_home
from lifecycle.store import Store

if TYPE_CHECKING:
    from lifecycle.models import LoadedModel
    from lifecycle.rag import SourceDoc


@st.cache_resource(max_entries=4, show_spinner=False)
def _store_at(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """The project store in the current data folder (LIFECYCLE_HOME)."""
    return _store_at(str(data_home() / "lifecycle.sqlite"))


@st.cache_resource(max_entries=2, show_spinner=False)
def get_model(ref: str) -> LoadedModel:
    """A loaded model shared by every session (its lock serialises generation)."""
    from lifecycle.models import load_model

    return load_model(ref)


@st.cache_resource(max_entries=2, show_spinner=False)
def get_llamacpp(location: str, threads: int):
    """A GGUF model loaded by llama.cpp in this process, shared by every session (its lock)."""
    from lifecycle.serving.llamacpp import load_llamacpp

    return load_llamacpp(location, threads)


@st.cache_resource(max_entries=2, show_spinner=False)
def get_reward_embedder(ref: str):
    """The SentenceTransformer a reward model reads completions with, shared by every session."""
    from lifecycle.alignment.reward import load_embedder

    return load_embedder(ref)


@st.cache_resource(max_entries=4, show_spinner=False)
def get_reward(project_id: str, reward_id: str):
    """A saved reward model with its embedder (ids are new per training: never stale)."""
    from lifecycle.alignment.reward import load_reward

    model = load_reward(project_id, reward_id)
    model.embedder = get_reward_embedder(model.embedder_ref)
    return model


@st.cache_resource(max_entries=2, show_spinner=False)
def get_embedder(ref: str):
    """A sentence-transformers embedder shared by every session (it holds its own lock)."""
    from lifecycle.rag import load_embedder

    return load_embedder(ref)


@st.cache_resource(max_entries=4, show_spinner=False)
def get_vector_store(kind: str, host: str, port: int, home: str):
    """The Chroma client for a store (embedded in `home`, or a server), shared by sessions."""
    from lifecycle.rag import StoreConfig, VectorStore

    path = str(data_home() / "vectors") if kind == "embedded" else ""
    del home  # part of the cache key only: a new data folder gets its own client
    return VectorStore(StoreConfig(kind, host, port, path))


# An uploaded file is parsed once per content, not on every rerun of its form. The verdict (the
# result or the refusal's message) is cached: Streamlit caches nothing for a call that raises.
# Keyed by the sha256 of the bytes, which are passed but not hashed again (`_raw`).


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def _table_verdict(digest: str, name: str, _raw: bytes) -> tuple[list[dict], str]:
    from lifecycle.evaluation.datasets import DatasetError, read_table

    try:
        return read_table(_raw, name), ""
    except DatasetError as err:
        return [], str(err)


def uploaded_table(name: str, raw: bytes) -> list[dict]:
    """Rows of an uploaded CSV/JSONL set, parsed once per content (DatasetError if refused)."""
    from lifecycle.evaluation.datasets import DatasetError

    rows, error = _table_verdict(hashlib.sha256(raw).hexdigest(), name, raw)
    if error:
        raise DatasetError(error)
    return rows


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _document_verdict(digest: str, name: str, _data: bytes) -> tuple[SourceDoc | None, str]:
    from lifecycle.rag.readers import RagError, read_upload

    try:
        return read_upload(name, _data), ""
    except RagError as err:
        return None, str(err)


def uploaded_document(name: str, data: bytes) -> SourceDoc:
    """The text of an uploaded RAG document, read once per content (RagError if refused)."""
    from lifecycle.rag import RagError

    doc, error = _document_verdict(hashlib.sha256(data).hexdigest(), name, data)
    if doc is None:
        raise RagError(error)
    return doc


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _chunk_summary(
    digest: str, unit: str, size: int, overlap: int, tokenizer_ref: str, _text: str, _tokenizer
) -> tuple[int, float, tuple[str, ...]]:
    from lifecycle.rag import ChunkSettings, preview

    p = preview(_text, ChunkSettings(unit, size, overlap), _tokenizer)
    return p.count, p.mean_chars, tuple(c.text for c in p.chunks[:5])


def chunk_summary(doc: SourceDoc, settings, tokenizer=None) -> tuple[int, float, tuple[str, ...]]:
    """(chunks, mean characters, first five chunks) of a document, split once per settings."""
    ref = getattr(tokenizer, "name_or_path", type(tokenizer).__name__) if tokenizer else ""
    unit, size, overlap = settings.unit, settings.size, settings.overlap
    return _chunk_summary(doc.doc_hash, unit, size, overlap, ref, doc.text, tokenizer)


@st.cache_resource(max_entries=4, show_spinner=False)
def _conversion_at(home: str):
    from lifecycle.prepare import BackgroundConversion

    del home  # part of the cache key only: each data folder converts once
    return BackgroundConversion()


def get_conversion():
    """The embedded model's background conversion for the current data folder."""
    return _conversion_at(str(data_home()))


@st.cache_resource(max_entries=16, show_spinner=False)
def _background_load_at(name: str, key: tuple, home: str, _load):
    from components.background import BackgroundLoad

    del name, key, home  # the cache key only: one load per resource and data folder
    return BackgroundLoad(_load)


def get_background_load(name: str, key: tuple, load):
    """The one background run of `load(on_step)` for this resource in the current data folder
    (a model's weights, the embedder and the vector store): every session follows the same."""
    return _background_load_at(name, key, str(data_home()), load)


@st.cache_resource(max_entries=8, show_spinner=False)
def _data_report(
    model_key: str,
    data_hash: str,
    task_id: str,
    max_len: int,
    window: int,
    val_share: float,
    seed: int,
    _tokenizer,
    _examples: tuple,
):
    from lifecycle.finetune.data import data_report, task_spec

    spec = task_spec(task_id)
    return data_report(_tokenizer, spec, list(_examples), max_len, window, val_share, seed)


def training_data_report(lm, data, task_id: str, max_len: int, val_share: float, seed: int):
    """The fine-tune data report, tokenized once per model, data and settings (not each rerun:
    a few seconds for a few hundred rows on a CPU)."""
    key = str(getattr(lm.tokenizer, "name_or_path", "") or lm.name)
    return _data_report(
        key,
        data.hash,
        task_id,
        max_len,
        lm.context_window,
        val_share,
        seed,
        lm.tokenizer,
        tuple(data.examples),
    )
