"""Adding documents to a collection: read, skip duplicates, split, embed in batches, store."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifecycle.rag.chunking import ChunkSettings, Preview, preview, split
from lifecycle.rag.contents import delete_document, has_document, save_text
from lifecycle.rag.embedder import EMBED_BATCH, RagError
from lifecycle.rag.readers import SourceDoc, read_upload
from lifecycle.rag.store import RagCollection, guard

MAX_CHUNKS_PER_DOC = 20_000  # about 10 minutes of embedding on a laptop CPU
OnStep = Callable[[int, int], None]  # (chunks done, chunks in total)


@dataclass(frozen=True)
class Skipped:
    """A file that was not added, and why."""

    name: str
    reason: str


@dataclass
class IngestReport:
    """What an add did: documents added (with chunk counts), files skipped, time taken."""

    added: list[tuple[str, str, int]] = field(default_factory=list)  # (source, doc_hash, chunks)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def chunks(self) -> int:
        """Chunks stored by this add."""
        return sum(n for _, _, n in self.added)


@dataclass(frozen=True)
class _Row:
    doc: SourceDoc
    id: str
    text: str
    meta: dict[str, Any]


def read_uploads(uploads: Iterable[tuple[str, bytes]]) -> tuple[list[SourceDoc], list[Skipped]]:
    """Readable documents and the files refused (each with its reason)."""
    docs, skipped = [], []
    for name, data in uploads:
        try:
            docs.append(read_upload(name, data))
        except RagError as err:
            skipped.append(Skipped(name, str(err)))
    return docs, skipped


def screen(coll: RagCollection, docs: Sequence[SourceDoc]) -> tuple[list[SourceDoc], list[Skipped]]:
    """The documents an add would store, and the duplicates it would skip (each with why)."""
    fresh: list[SourceDoc] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.doc_hash in seen or has_document(coll, doc.doc_hash):
            first = seen.get(doc.doc_hash, "a document already in the collection")
            skipped.append(Skipped(doc.name, f"Same content as {first}: skipped."))
            continue
        seen[doc.doc_hash] = doc.name
        fresh.append(doc)
    return fresh, skipped


def preview_upload(
    name: str, data: bytes, settings: ChunkSettings, tokenizer: Any = None
) -> Preview:
    """The chunks an upload would make, without storing anything."""
    return preview(read_upload(name, data).text, settings, tokenizer)


def _rows(coll: RagCollection, doc: SourceDoc, tokenizer: Any) -> list[_Row]:
    chunks = split(doc.text, coll.info.chunks, tokenizer)
    if len(chunks) > MAX_CHUNKS_PER_DOC:
        raise RagError(
            f"{doc.name} would make {len(chunks):,} chunks; the limit is "
            f"{MAX_CHUNKS_PER_DOC:,}. Use bigger chunks or split the file."
        )
    h = doc.doc_hash
    return [
        _Row(
            doc,
            f"{h[:16]}-{c.index}",
            c.text,
            {"source": doc.name, "doc_hash": h, "index": c.index, "start": c.start}
            | {"chars": len(c.text), "doc_chars": len(doc.text)},
        )
        for c in chunks
    ]


def _plan(
    coll: RagCollection, docs: Sequence[SourceDoc], tokenizer: Any, report: IngestReport
) -> list[_Row]:
    """Chunks of the new documents; duplicates and unsplittable ones go to the report."""
    rows: list[_Row] = []
    fresh, report.skipped = screen(coll, docs)
    for doc in fresh:
        try:
            rows.extend(_rows(coll, doc, tokenizer))
        except RagError as err:
            report.skipped.append(Skipped(doc.name, str(err)))
    return rows


def add_documents(
    coll: RagCollection,
    docs: Sequence[SourceDoc],
    tokenizer: Any = None,
    on_step: OnStep = lambda done, total: None,
    batch_size: int = EMBED_BATCH,
) -> IngestReport:
    """Split, embed and store new documents in batches; duplicates are skipped with a reason."""
    start, report = time.perf_counter(), IngestReport()
    rows = _plan(coll, docs, tokenizer, report)
    last = {r.doc.doc_hash: r.id for r in rows}  # a document is complete once its last chunk is in
    for doc in {r.doc.doc_hash: r.doc for r in rows}.values():
        save_text(coll, doc.doc_hash, doc.text)
    done_docs: set[str] = set()
    try:
        for i in range(0, len(rows), batch_size):
            batch = rows[i : i + batch_size]
            vectors = coll.embedder.embed([r.text for r in batch], batch_size)
            with guard(coll.config):
                coll.chroma.add(
                    ids=[r.id for r in batch],
                    embeddings=vectors,
                    documents=[r.text for r in batch],
                    metadatas=[r.meta for r in batch],
                )
            done_docs.update(r.doc.doc_hash for r in batch if last[r.doc.doc_hash] == r.id)
            on_step(i + len(batch), len(rows))
    finally:
        _drop_partial(coll, set(last) - done_docs)
    names = {r.doc.doc_hash: r.doc.name for r in rows}
    report.added = [(names[h], h, n) for h, n in Counter(r.meta["doc_hash"] for r in rows).items()]
    report.seconds = time.perf_counter() - start
    return report


def _drop_partial(coll: RagCollection, hashes: set[str]) -> None:
    """An interrupted add leaves no half document behind (it would block a retry as duplicate)."""
    for h in hashes:
        try:
            delete_document(coll, h)
        except RagError:
            pass  # the store is gone (server down): the original error explains more


def add_uploads(
    coll: RagCollection,
    uploads: Iterable[tuple[str, bytes]],
    tokenizer: Any = None,
    on_step: OnStep = lambda done, total: None,
) -> IngestReport:
    """Read uploaded files (name, bytes) and add the readable ones; refusals are in the report."""
    docs, refused = read_uploads(uploads)
    report = add_documents(coll, docs, tokenizer, on_step)
    report.skipped[:0] = refused
    return report
