"""What a collection holds: its documents, their chunks and full texts, and its size."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lifecycle.atomic import write_text_atomic
from lifecycle.rag.embedder import RagError
from lifecycle.rag.store import CollectionInfo, RagCollection, guard

# What SourceDoc.doc_hash makes. Chunk metadata can come from a shared server or an old store,
# so a hash is checked before it names a file: '../../x' must never become a path.
_DOC_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DocumentInfo:
    """One document of a collection."""

    source: str
    doc_hash: str
    chunks: int
    chars: int


def chunk_metadatas(coll: RagCollection, where: dict | None = None) -> dict[str, dict]:
    """Metadata of every chunk (or those matching `where`), by chunk id."""
    with guard(coll.config):
        got = coll.chroma.get(where=where, include=["metadatas"])
    return dict(zip(got["ids"], got["metadatas"]))


def documents(coll: RagCollection) -> list[DocumentInfo]:
    """The collection's documents with their chunk counts, by source name."""
    grouped: dict[str, dict] = {}
    for meta in chunk_metadatas(coll).values():
        doc = grouped.setdefault(meta["doc_hash"], {"source": meta["source"], "n": 0, "c": 0})
        doc["n"] += 1
        doc["c"] = max(doc["c"], int(meta.get("doc_chars", 0)))
    docs = [DocumentInfo(d["source"], h, d["n"], d["c"]) for h, d in grouped.items()]
    return sorted(docs, key=lambda d: (d.source.casefold(), d.doc_hash))


@dataclass(frozen=True)
class CollectionStats:
    """Sizes of a collection, for the page's summary."""

    info: CollectionInfo
    documents: int
    chunks: int
    chars: int  # all chunks together (overlap counted twice)

    @property
    def mean_chunk_chars(self) -> float:
        """Average chunk length in characters."""
        return self.chars / self.chunks if self.chunks else 0.0


def stats(coll: RagCollection) -> CollectionStats:
    """Documents, chunks and characters stored."""
    metas = list(chunk_metadatas(coll).values())
    docs = {m["doc_hash"] for m in metas}
    return CollectionStats(coll.info, len(docs), len(metas), sum(int(m["chars"]) for m in metas))


def has_document(coll: RagCollection, doc_hash: str) -> bool:
    """True when a document with this content hash is in the collection."""
    with guard(coll.config):
        return bool(coll.chroma.get(where={"doc_hash": doc_hash}, limit=1, include=[])["ids"])


def delete_document(coll: RagCollection, doc_hash: str) -> int:
    """Remove all chunks of one document; returns how many were removed."""
    ids = list(chunk_metadatas(coll, {"doc_hash": doc_hash}))
    if ids:
        with guard(coll.config):
            coll.chroma.delete(ids=ids)
    path = _text_path(coll, doc_hash)
    if path is not None:
        path.unlink(missing_ok=True)
    return len(ids)


def chunk_count(coll: RagCollection) -> int:
    """Number of chunks stored."""
    with guard(coll.config):
        return int(coll.chroma.count())


def save_text(coll: RagCollection, doc_hash: str, text: str) -> None:
    """Keep a document's full text (atomic: a crash never leaves half a file)."""
    path = _text_path(coll, doc_hash)
    if path is None:
        raise RagError(f"{doc_hash[:80]!r} is not a document hash.")
    write_text_atomic(path, text)


def document_text(coll: RagCollection, doc_hash: str) -> str:
    """A document's full text; rebuilt from its chunks when the side file is missing."""
    path = _text_path(coll, doc_hash)
    if path is not None and path.is_file():
        return path.read_text(encoding="utf-8")
    with guard(coll.config):
        got = coll.chroma.get(where={"doc_hash": doc_hash}, include=["documents", "metadatas"])
    if not got["ids"]:
        raise RagError("That document is not in the collection any more.")
    text = ""
    pairs = [(doc or "", _start(meta)) for doc, meta in zip(got["documents"], got["metadatas"])]
    limit = sum(len(doc) for doc, _ in pairs) * 2 + 10_000  # gaps are short whitespace runs
    for doc, start in sorted(pairs, key=lambda p: p[1]):
        # Offsets are exact; gaps between chunks were whitespace the splitter dropped. A tampered
        # offset could ask for gigabytes of padding: the gap is capped by the text's own size.
        text = text.ljust(min(start, limit)) + doc[max(0, len(text) - start) :]
    return text


def _start(meta: object) -> int:
    """A chunk's start offset from its metadata (0 when it is missing or not a number)."""
    value = meta.get("start", 0) if isinstance(meta, dict) else 0
    return value if isinstance(value, int) and value >= 0 else 0


def _text_path(coll: RagCollection, doc_hash: str) -> Path | None:
    """The side file of a document's text; None when the hash is not one that we make."""
    if not isinstance(doc_hash, str) or not _DOC_HASH.fullmatch(doc_hash):
        return None
    return coll.texts / f"{doc_hash}.txt"
