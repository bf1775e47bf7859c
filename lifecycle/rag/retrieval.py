"""Finding the chunks that answer a question: top-k similarity, or MMR for variety."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.rag.contents import chunk_count
from lifecycle.rag.embedder import RagError
from lifecycle.rag.store import RagCollection, guard

MAX_K = 20  # more sources than this crowd a small model's context window
MMR_FETCH = 20  # candidates MMR picks from: a few times k, as LangChain does
MMR_LAMBDA = 0.5  # 1 = pure relevance, 0 = pure variety (LangChain's default)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and how close it is to the question (cosine similarity, -1..1)."""

    text: str
    source: str
    score: float  # 1 - cosine distance
    chunk_id: str
    index: int  # chunk number within its document
    start: int  # character offset of the chunk in its document's text
    doc_hash: str = ""


def retrieve(
    coll: RagCollection,
    question: str,
    k: int = 4,
    mmr: bool = False,
    fetch_k: int = MMR_FETCH,
    lambda_mult: float = MMR_LAMBDA,
) -> list[Hit]:
    """The k chunks most similar to the question (MMR: relevant but not repeating each other)."""
    if not question.strip():
        raise RagError("Type a question to search the collection.")
    if not 1 <= k <= MAX_K:
        raise RagError(f"Number of sources must be between 1 and {MAX_K}.")
    total = chunk_count(coll)
    if total == 0:
        raise RagError(f"{coll.info.label!r} is empty: add documents before asking questions.")
    query = coll.embedder.embed([question])[0]
    n = min(total, max(fetch_k, k) if mmr else k)
    include = ["documents", "metadatas", "distances"] + (["embeddings"] if mmr else [])
    with guard(coll.config):
        got = coll.chroma.query(query_embeddings=[query], n_results=n, include=include)
    hits = [
        _hit(doc, meta, dist, cid)
        for doc, meta, dist, cid in zip(
            got["documents"][0], got["metadatas"][0], got["distances"][0], got["ids"][0]
        )
    ]
    if not mmr:
        return hits
    order = mmr_order(query, got["embeddings"][0], k, lambda_mult)
    return [hits[i] for i in order]


def _hit(doc: str, meta: dict[str, Any], distance: float, chunk_id: str) -> Hit:
    return Hit(
        text=doc,
        source=str(meta.get("source", "")),
        score=round(1.0 - float(distance), 4),
        chunk_id=chunk_id,
        index=int(meta.get("index", 0)),
        start=int(meta.get("start", 0)),
        doc_hash=str(meta.get("doc_hash", "")),
    )


def mmr_order(query: Any, candidates: Any, k: int, lambda_mult: float = MMR_LAMBDA) -> list[int]:
    """Maximal marginal relevance over unit vectors: indices of the k picks, in pick order."""
    import numpy as np

    cands = np.asarray(candidates, dtype=np.float32)
    if len(cands) == 0:
        return []
    relevance = cands @ np.asarray(query, dtype=np.float32)
    similarity = cands @ cands.T
    picked = [int(np.argmax(relevance))]
    while len(picked) < min(k, len(cands)):
        redundancy = similarity[:, picked].max(axis=1)
        score = lambda_mult * relevance - (1 - lambda_mult) * redundancy
        score[picked] = -np.inf
        picked.append(int(np.argmax(score)))
    return picked
