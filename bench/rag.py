"""RAG speed: ingestion through lifecycle vs raw chromadb + sentence-transformers, query latency.

Prints, in one run:
- ingestion throughput (chunks/s) of lifecycle's add_documents (split, dedup check, full-text
  side file, embed in batches, add) against raw chromadb + sentence-transformers on the same
  chunks, embedder (embedded MiniLM) and batch size, and their ratio (goal >= 0.9);
- retrieval latency p50/p95 at 1k and 10k chunks: lifecycle's retrieve() (embeds the question
  with MiniLM, then searches), the chroma search alone, and MMR (goal p50 < 50 ms at 10k).
  The 1k/10k sets use precomputed vectors (real MiniLM vectors of 200 chunks plus noise) so the
  set builds in seconds on a CPU; the question is always embedded for real.
On a busy CPU, torch's spinning OpenMP threads make a one-question embedding 10-30x slower;
compare with OMP_WAIT_POLICY=PASSIVE in the environment.
Run: .venv/bin/python -m bench.rag [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

os.environ["LIFECYCLE_HOME"] = tempfile.mkdtemp(prefix="bench-rag-")  # never the user's store
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="bench-hf-"))

import numpy as np

from lifecycle.config import KNOWLEDGE
from lifecycle.rag import (
    EMBEDDED_EMBEDDER,
    ChunkSettings,
    SourceDoc,
    StoreConfig,
    VectorStore,
    add_documents,
    load_embedder,
    retrieve,
)
from lifecycle.rag.chunking import split
from lifecycle.rag.embedder import EMBED_BATCH

CHUNKS = ChunkSettings("chars", 800, 100)
QUESTIONS = [
    "How does quantization reduce memory?",
    "What rank should LoRA use?",
    "How do I evaluate a summarizer?",
    "When should I fine-tune instead of prompting?",
    "What is a reward model?",
    "How do I serve a model with low latency?",
    "What are the risks of a chatbot?",
    "How big a model does code generation need?",
]


def corpus(chunks_wanted: int, seed: int = 0) -> list[SourceDoc]:
    """Synthetic documents of shuffled guide sentences, about 8 chunks each, all distinct."""
    text = " ".join(p.read_text() for p in sorted((KNOWLEDGE / "stages").glob("*.md")))
    sentences = [s.strip() + "." for s in text.replace("\n", " ").split(".") if len(s) > 30]
    rng, docs = random.Random(seed), []
    per_doc = 8 * CHUNKS.size // 110  # sentences of ~110 characters
    for i in range(max(1, chunks_wanted // 8)):
        body = " ".join(rng.choice(sentences) for _ in range(per_doc))
        docs.append(SourceDoc(f"doc-{i}.txt", f"Document {i}. {body}"))
    return docs


def ours(store: VectorStore, embedder, docs: list[SourceDoc], round_: int) -> float:
    coll = store.create("bench", f"ours {round_}", embedder, CHUNKS)
    report = add_documents(coll, docs, batch_size=EMBED_BATCH)
    store.delete(coll.info.name)
    return report.chunks / report.seconds


def raw(client, model, docs: list[SourceDoc], round_: int) -> float:
    """The same chunks straight through sentence-transformers and chromadb."""
    rows = [(d.name, c) for d in docs for c in split(d.text, CHUNKS)]
    start = time.perf_counter()
    col = client.create_collection(
        f"raw-{round_}", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    for i in range(0, len(rows), EMBED_BATCH):
        batch = rows[i : i + EMBED_BATCH]
        texts = [c.text for _, c in batch]
        vectors = model.encode(texts, batch_size=EMBED_BATCH, normalize_embeddings=True)
        col.add(
            ids=[f"{name}-{c.index}" for name, c in batch],
            embeddings=vectors,
            documents=texts,
            metadatas=[{"source": name, "index": c.index, "start": c.start} for name, c in batch],
        )
    spent = time.perf_counter() - start
    client.delete_collection(col.name)
    return len(rows) / spent


def ingestion(store: VectorStore, embedder, chunks_wanted: int, rounds: int) -> None:
    docs = corpus(chunks_wanted)
    n = sum(len(split(d.text, CHUNKS)) for d in docs)
    ours_r, raw_r = [], []
    for r in range(rounds):  # paired rounds, order alternating, so machine drift hits both
        if r % 2:
            raw_r.append(raw(store.client, embedder.model, docs, r))
            ours_r.append(ours(store, embedder, docs, r))
        else:
            ours_r.append(ours(store, embedder, docs, r))
            raw_r.append(raw(store.client, embedder.model, docs, r))
    ratio = statistics.median(a / b for a, b in zip(ours_r, raw_r))
    print(
        f"Ingestion: {n} chunks of <= {CHUNKS.size} chars, MiniLM, batch {EMBED_BATCH}, "
        f"{rounds} paired rounds (medians)"
    )
    print(f"  {'lifecycle add_documents':32s} {statistics.median(ours_r):8.1f} chunks/s")
    print(f"  {'raw chromadb + sentence-transf.':32s} {statistics.median(raw_r):8.1f} chunks/s")
    print(f"  {'ratio (goal >= 0.9)':32s} {ratio:8.3f}")


def filled(store: VectorStore, embedder, size: int, base: np.ndarray):
    """A collection of `size` chunks with precomputed vectors near real MiniLM vectors."""
    coll = store.create("bench", f"latency {size}", embedder, CHUNKS)
    rng = np.random.default_rng(size)
    for lo in range(0, size, 1000):
        ids = list(range(lo, min(lo + 1000, size)))
        vecs = base[[i % len(base) for i in ids]] + rng.normal(
            0, 0.3 / np.sqrt(base.shape[1]), (len(ids), base.shape[1])
        )
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        coll.chroma.add(
            ids=[f"c{i}" for i in ids],
            embeddings=vecs.astype(np.float32),
            documents=[f"synthetic chunk {i}" for i in ids],
            metadatas=[
                {
                    "source": f"doc-{i // 8}.txt",
                    "doc_hash": str(i // 8),
                    "index": i % 8,
                    "start": 0,
                    "chars": 20,
                    "doc_chars": 160,
                }
                for i in ids
            ],
        )
    return coll


def percentiles(times: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1000 for t in times)
    return ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.95))]


def measure(coll, embedder, questions: list[str]) -> dict[str, list[float]]:
    """Seconds per query: embedding the question, chroma's search, retrieve(), retrieve(mmr)."""
    times: dict[str, list[float]] = {"embed": [], "search": [], "retrieve": [], "mmr": []}
    retrieve(coll, questions[0], 4)  # warm-up: the first query loads the index
    for q in questions:
        times["embed"].append(timed(lambda q=q: embedder.embed([q])))
        vec = embedder.embed([q])[0]
        times["search"].append(
            timed(lambda v=vec: coll.chroma.query(query_embeddings=[v], n_results=4))
        )
        times["retrieve"].append(timed(lambda q=q: retrieve(coll, q, 4)))
        times["mmr"].append(timed(lambda q=q: retrieve(coll, q, 4, mmr=True)))
    return times


def latency(store: VectorStore, embedder, sizes: tuple[int, ...], queries: int) -> None:
    texts = [c.text for d in corpus(200, seed=1) for c in split(d.text, CHUNKS)][:200]
    base = np.asarray(embedder.embed(texts))
    questions = [QUESTIONS[i % len(QUESTIONS)] + f" ({i})" for i in range(queries)]
    print(f"Retrieval latency, k=4, {queries} queries, ms; vectors precomputed (see docstring)")
    print(
        f"  {'chunks':>8s} {'retrieve p50':>13s} {'p95':>6s} {'embed p50':>10s} "
        f"{'search p50':>11s} {'p95':>6s} {'mmr p50':>8s}"
    )
    for size in sizes:
        coll = filled(store, embedder, size, base)
        t = {k: percentiles(v) for k, v in measure(coll, embedder, questions).items()}
        print(
            f"  {size:8,d} {t['retrieve'][0]:13.1f} {t['retrieve'][1]:6.1f} "
            f"{t['embed'][0]:10.1f} {t['search'][0]:11.1f} {t['search'][1]:6.1f} "
            f"{t['mmr'][0]:8.1f}"
        )
        store.delete(coll.info.name)
    print("  goal: retrieve p50 < 50 ms at 10k chunks")


def timed(fn) -> float:
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sets, fewer rounds")
    quick = parser.parse_args().quick
    embedder = load_embedder(EMBEDDED_EMBEDDER)
    embedder.embed(["warm-up"])
    store = VectorStore(StoreConfig())
    print(
        f"CPU cores {os.cpu_count()}, load average at start {os.getloadavg()[0]:.1f}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    )
    ingestion(store, embedder, 64 if quick else 240, 3 if quick else 5)
    latency(store, embedder, (1000, 3000) if quick else (1000, 10000), 30 if quick else 100)
    print(f"load average at end {os.getloadavg()[0]:.1f} (other work on the machine slows both)")


if __name__ == "__main__":
    main()
