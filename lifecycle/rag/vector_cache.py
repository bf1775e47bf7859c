"""Vectors of texts already embedded, kept in the data folder: the starter guides are embedded
once per data folder (by setup), not once per project on its first visit to the RAG page."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lifecycle.config import data_home
from lifecycle.rag.embedder import EMBED_BATCH, Embedder

_lock = threading.Lock()  # one writer per process; a torn file is never read (atomic rename)


def cache_path(embedder_ref: str, home: Path | None = None) -> Path:
    """The cache file of one embedder (its reference hashed: a path or hub id is not a name)."""
    slug = hashlib.sha256(embedder_ref.encode()).hexdigest()[:16]
    return (home or data_home()) / "cache" / f"vectors-{slug}.npz"


def text_key(text: str) -> str:
    """A text's key in the cache."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _load(path: Path, dimension: int) -> dict[str, np.ndarray]:
    """The cached vectors, or none when the file is missing, unreadable or of another size."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
    except (OSError, ValueError, KeyError):
        return {}
    if vectors.ndim != 2 or vectors.shape[1] != dimension or len(keys) != len(vectors):
        return {}
    return {str(k): v for k, v in zip(keys, vectors, strict=True)}


def _save(path: Path, cache: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vectors-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached_keys(path: Path) -> set[str]:
    """The keys of the texts a cache file holds (none when it is missing or unreadable)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {str(k) for k in data["keys"]}
    except (OSError, ValueError, KeyError):
        return set()


class CachedEmbedder:
    """An embedder that reads known texts' vectors from the cache and embeds only the rest."""

    def __init__(self, embedder: Embedder, path: Path | None = None) -> None:
        self.inner = embedder
        self.path = path or cache_path(embedder.ref)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # ref, name, dimension, max_tokens, model, lock

    def embed(self, texts: Sequence[str], batch_size: int = EMBED_BATCH) -> np.ndarray:
        """The same vectors as the embedder's, from the cache where the text is known."""
        with _lock:
            cache = _load(self.path, self.inner.dimension)
        keys = [text_key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in cache]
        if missing:
            fresh = self.inner.embed([texts[i] for i in missing], batch_size)
            for i, vector in zip(missing, fresh, strict=True):
                cache[keys[i]] = np.asarray(vector, dtype=np.float32)
            with _lock:
                _save(self.path, cache)
        if not keys:
            return np.zeros((0, self.inner.dimension), dtype=np.float32)
        return np.stack([cache[k] for k in keys]).astype(np.float32)
