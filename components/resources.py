"""Every @st.cache_resource loader of the app (shared by all sessions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from lifecycle.config import data_home
from lifecycle.store import Store

if TYPE_CHECKING:
    from lifecycle.models import LoadedModel


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
