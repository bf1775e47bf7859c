"""Splitting documents into chunks by characters or by a generator's tokens (LangChain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.rag.embedder import RagError, token_length

UNITS = ("chars", "tokens")
MIN_CHUNK = 20  # below this a chunk is a phrase: retrieval returns fragments without meaning
MAX_CHUNK = {"chars": 8000, "tokens": 2048}  # beyond this few chunks fit a small model's prompt
CHARS_PER_TOKEN = 16  # an upper bound for locating token-measured overlaps in the text


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut: unit, chunk size and the overlap between neighbours."""

    unit: str = "chars"  # chars | tokens (the generator's tokens)
    size: int = 800  # about 180 MiniLM tokens: under its 256-token window, so nothing is cut
    overlap: int = 100  # repeats the end of a chunk at the start of the next: keeps sentences

    def check(self) -> None:
        """Refuse settings that cannot split, naming the knob."""
        if self.unit not in UNITS:
            raise RagError(f"Chunk unit must be one of {', '.join(UNITS)}, not {self.unit!r}.")
        top = MAX_CHUNK[self.unit]
        if not MIN_CHUNK <= self.size <= top:
            raise RagError(f"Chunk size must be between {MIN_CHUNK} and {top:,} {self.unit}.")
        if not 0 <= self.overlap < self.size:
            raise RagError("Chunk overlap must be at least 0 and smaller than the chunk size.")

    def to_metadata(self) -> dict[str, Any]:
        """Flat form for collection metadata."""
        return {"chunk_unit": self.unit, "chunk_size": self.size, "chunk_overlap": self.overlap}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ChunkSettings:
        """Back from collection metadata (defaults where absent)."""
        base = cls()
        return cls(
            str(meta.get("chunk_unit", base.unit)),
            int(meta.get("chunk_size", base.size)),
            int(meta.get("chunk_overlap", base.overlap)),
        )


@dataclass(frozen=True)
class Chunk:
    """A piece of a document and where it starts in the document's text."""

    text: str
    index: int
    start: int


@dataclass(frozen=True)
class Preview:
    """What splitting would produce, before anything is stored."""

    chunks: tuple[Chunk, ...]
    characters: int  # of the whole document

    @property
    def count(self) -> int:
        """Number of chunks."""
        return len(self.chunks)

    @property
    def mean_chars(self) -> float:
        """Average chunk length in characters."""
        return sum(len(c.text) for c in self.chunks) / len(self.chunks) if self.chunks else 0.0


def splitter(settings: ChunkSettings, tokenizer: Any = None) -> Any:
    """A LangChain RecursiveCharacterTextSplitter measuring in characters or in tokens."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    settings.check()
    if settings.unit == "chars":
        return RecursiveCharacterTextSplitter(
            chunk_size=settings.size, chunk_overlap=settings.overlap
        )
    if tokenizer is None:
        raise RagError(
            "Splitting by tokens needs the generator's tokenizer: load a model first, "
            "or split by characters."
        )
    return RecursiveCharacterTextSplitter(
        chunk_size=settings.size,
        chunk_overlap=settings.overlap,
        length_function=token_length(tokenizer),
    )


def split(text: str, settings: ChunkSettings, tokenizer: Any = None) -> list[Chunk]:
    """The chunks of `text` with their start offsets (exact: each chunk is a slice of the text)."""
    pieces = splitter(settings, tokenizer).split_text(text)
    # A chunk repeats at most `overlap` of the previous one, so it starts no earlier than the
    # previous end minus the overlap: searching from there keeps repeated passages in place.
    reach = settings.overlap * (1 if settings.unit == "chars" else CHARS_PER_TOKEN)
    chunks, prev_start, prev_end = [], -1, 0
    for i, piece in enumerate(pieces):
        start = text.find(piece, max(prev_start + 1, prev_end - reach))
        if start < 0:
            start = text.find(piece, prev_start + 1)
        if start < 0:
            start = max(text.find(piece), 0)
        chunks.append(Chunk(piece, i, start))
        prev_start, prev_end = start, start + len(piece)
    return chunks


def preview(text: str, settings: ChunkSettings, tokenizer: Any = None) -> Preview:
    """Split without storing: the chunks and counts the page shows before adding."""
    return Preview(tuple(split(text, settings, tokenizer)), len(text))
