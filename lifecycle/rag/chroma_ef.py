"""Our embedder as a chromadb embedding function (imported lazily: it imports chromadb)."""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from lifecycle.rag.embedder import Embedder, load_embedder

EF_NAME = "lifecycle-sentence-transformer"


@register_embedding_function
class LifecycleEmbeddingFunction(EmbeddingFunction[Documents]):
    """Wraps an `Embedder` so chroma never falls back to its default (downloading) model."""

    def __init__(self, embedder: Embedder | None = None, ref: str = ""):
        self._embedder = embedder
        self.ref = embedder.ref if embedder else ref

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(input))

    @property
    def embedder(self) -> Embedder:
        """The wrapped embedder; one rebuilt from a stored config loads on first use."""
        if self._embedder is None:
            self._embedder = load_embedder(self.ref)
        return self._embedder

    @staticmethod
    def name() -> str:
        return EF_NAME

    def get_config(self) -> dict[str, Any]:
        return {"ref": self.ref}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LifecycleEmbeddingFunction:
        # chroma rebuilds functions from stored configs on every get: stay lazy, load nothing.
        return LifecycleEmbeddingFunction(ref=str(config.get("ref", "")))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]
