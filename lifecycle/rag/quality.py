"""Retrieval quality: a question per sampled chunk, then is that chunk among the top k?"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from lifecycle.models.generation import GenParams, generate
from lifecycle.models.protocol import ChatModel
from lifecycle.rag.contents import chunk_metadatas, document_text, documents
from lifecycle.rag.embedder import RagError
from lifecycle.rag.retrieval import MAX_K, retrieve
from lifecycle.rag.store import RagCollection, guard

MAX_QUESTIONS = 200  # each question is one retrieval (and maybe one generation)
QUESTION_PROMPT = (
    "Write one short question that the passage below answers. Reply with the question only.\n\n"
    "Passage:\n{passage}"
)
# One line only, no two adjacent optional runs: chunks are untrusted text, and the former
# `\s+(.+?)\s*#*\s*$` backtracked cubically (a 6,000-character chunk took 64 s).
_HEADING = re.compile(r"^#{1,6}[ \t]+(\S[^\n]*)", re.MULTILINE)
_SENTENCE_WORDS = 20  # a fallback query: the chunk's opening words
_TITLE_SEARCH = 2000  # a document's title is on its first lines


@dataclass(frozen=True)
class QualityRow:
    """One sampled chunk, the question made from it, and where retrieval ranked it."""

    question: str
    origin: str  # heading | model | sentence: how the question was made
    target_id: str
    source: str
    rank: int | None  # 1-based rank of the target chunk in the top k; None when missed
    retrieved: tuple[str, ...]  # chunk ids, best first

    @property
    def hit(self) -> bool:
        """The target chunk was among the top k."""
        return self.rank is not None


@dataclass(frozen=True)
class QualityReport:
    """Hit rate@k and mean reciprocal rank over the sampled questions."""

    k: int
    seed: int
    rows: tuple[QualityRow, ...]

    @property
    def hit_rate(self) -> float:
        """Share of questions whose chunk came back in the top k."""
        return sum(r.hit for r in self.rows) / len(self.rows) if self.rows else 0.0

    @property
    def mrr(self) -> float:
        """Mean of 1/rank (0 when missed): rewards finding the chunk first."""
        return sum(1 / r.rank for r in self.rows if r.rank) / len(self.rows) if self.rows else 0.0


def question_asker(lm: ChatModel, params: GenParams) -> Callable[[str], str]:
    """An `ask` for make_question backed by a loaded model (its lock and settings)."""
    system = {"role": "system", "content": "You write short questions about passages."}
    return lambda prompt: generate(lm, [system, {"role": "user", "content": prompt}], params).text


def make_question(
    text: str, ask: Callable[[str], str] | None = None, title: str = ""
) -> tuple[str, str]:
    """(question, origin) for a chunk: from its Markdown heading, the model, or its opening."""
    topic = first_heading(text)
    if topic:
        # Sections repeat across guides ("Pitfalls"): naming the document keeps the question
        # answerable by one chunk (hit rate@4 on the starter: 0.57 without it, 0.75 with it).
        if title and title.casefold() != topic.casefold():
            return f"What does {title} say about {topic}?", "heading"
        return f"What does the guide say about {topic}?", "heading"
    if ask is not None:
        reply = ask(QUESTION_PROMPT.format(passage=text)).strip()
        lines = [line.strip() for line in reply.splitlines() if line.strip()]
        if lines:
            return next((x for x in lines if x.endswith("?")), lines[0]), "model"
    words = re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=1)[0].split()
    return " ".join(words[:_SENTENCE_WORDS]), "sentence"


def first_heading(text: str) -> str:
    """The text of the first non-empty Markdown heading, without its closing hashes, or ''."""
    for found in _HEADING.finditer(text):
        topic = found.group(1).rstrip()
        bare = topic.rstrip("#")
        if bare != topic and (not bare or bare[-1] in " \t"):  # a closing sequence: `## A ##`
            topic = bare.rstrip()
        if topic:
            return topic
    return ""


def document_title(coll: RagCollection, doc_hash: str) -> str:
    """The first Markdown heading of a document, or '' (also when its text is unavailable)."""
    try:
        return first_heading(document_text(coll, doc_hash)[:_TITLE_SEARCH])
    except RagError:
        return ""


def sample_chunks(coll: RagCollection, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(chunk id, text, doc_hash) of n chunks drawn with a seed (same seed, same chunks)."""
    ids = sorted(chunk_metadatas(coll))
    if not ids:
        raise RagError(f"{coll.info.label!r} is empty: add documents before measuring retrieval.")
    picked = random.Random(seed).sample(ids, min(n, len(ids)))
    with guard(coll.config):
        got = coll.chroma.get(ids=picked, include=["documents", "metadatas"])
    found = {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
    return [(i, found[i][0], str(found[i][1].get("doc_hash", ""))) for i in picked]


def retrieval_quality(
    coll: RagCollection,
    n: int = 20,
    k: int = 4,
    seed: int = 0,
    ask: Callable[[str], str] | None = None,
    mmr: bool = False,
    on_step: Callable[[int, int], None] = lambda done, total: None,
) -> QualityReport:
    """Hit rate@k and MRR of retrieval on n seeded questions (the source chunk is the target)."""
    if not 1 <= n <= MAX_QUESTIONS:
        raise RagError(f"Number of questions must be between 1 and {MAX_QUESTIONS}.")
    if not 1 <= k <= MAX_K:
        raise RagError(f"k must be between 1 and {MAX_K}.")
    sample = sample_chunks(coll, n, seed)
    sources = {d.doc_hash: d.source for d in documents(coll)}
    titles = {h: document_title(coll, h) for h in {h for _, _, h in sample}}
    rows = []
    for done, (chunk_id, text, doc_hash) in enumerate(sample, start=1):
        question, origin = make_question(text, ask, titles[doc_hash])
        ids = tuple(h.chunk_id for h in retrieve(coll, question, k, mmr))
        rank = ids.index(chunk_id) + 1 if chunk_id in ids else None
        rows.append(QualityRow(question, origin, chunk_id, sources.get(doc_hash, ""), rank, ids))
        on_step(done, len(sample))
    return QualityReport(k, seed, tuple(rows))
