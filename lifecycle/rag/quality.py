"""Retrieval quality: a question per sampled chunk, then is that chunk among the top k?"""

from __future__ import annotations

import itertools
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
_MIN_WORDS = 3  # a chunk with fewer words of prose (all code, say) makes no question
_TITLE_SEARCH = 2000  # a document's title is on its first lines
_FETCH = 64  # chunks read from the store at a time while drawing questions
# Text no reader would ask about: a "# comment" in a code block is no heading, an HTML comment
# or an image is no sentence. Each pattern is linear on untrusted text (no nested repeats).
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]\n]{0,500}\]\([^)\n]{0,2000}\)")


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


def hidden_spans(text: str) -> list[tuple[int, int]]:
    """Spans of fenced code blocks (an unclosed one runs to the end) and HTML comments."""
    spans, opened, marker = [], -1, ""
    for fence in _FENCE.finditer(text):
        found = fence.group(1)
        if opened < 0:
            opened, marker = fence.start(), found
        elif found[0] == marker[0] and len(found) >= len(marker):
            spans.append((opened, fence.end()))
            opened = -1
    if opened >= 0:
        spans.append((opened, len(text)))
    return spans + [m.span() for m in _HTML_COMMENT.finditer(text)]


def prose(text: str, spans: list[tuple[int, int]] | None = None) -> str:
    """The text without code blocks, HTML comments and images (`spans`: hidden parts, if known)."""
    for start, end in sorted(hidden_spans(text) if spans is None else spans, reverse=True):
        text = text[: max(start, 0)] + "\n" + text[max(end, 0) :]
    return _IMAGE.sub(" ", text)


def make_question(
    text: str, ask: Callable[[str], str] | None = None, title: str = ""
) -> tuple[str, str]:
    """(question, origin) for a chunk: from its Markdown heading, the model, or its opening.

    Code blocks, HTML comments and images are left out first; ('', 'none') when no prose is left.
    """
    text = prose(text)
    if len(text.split()) < _MIN_WORDS and not first_heading(text):
        return "", "none"
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


class _Documents:
    """Each sampled document's title and hidden spans, read once."""

    def __init__(self, coll: RagCollection):
        self.coll = coll
        self.seen: dict[str, tuple[str, list[tuple[int, int]] | None]] = {}

    def get(self, doc_hash: str) -> tuple[str, list[tuple[int, int]] | None]:
        if doc_hash not in self.seen:
            try:
                text = document_text(self.coll, doc_hash)
            except RagError:  # the text is unavailable: the chunk is judged on its own
                self.seen[doc_hash] = ("", None)
            else:
                title = first_heading(prose(text[:_TITLE_SEARCH]))
                self.seen[doc_hash] = (title, hidden_spans(text))
        return self.seen[doc_hash]


def document_title(coll: RagCollection, doc_hash: str) -> str:
    """The first Markdown heading of a document, or '' (also when its text is unavailable)."""
    return _Documents(coll).get(doc_hash)[0]


def chunk_order(coll: RagCollection, seed: int):
    """(chunk id, text, doc_hash, start) of every chunk in a seeded order, read in batches."""
    ids = sorted(chunk_metadatas(coll))
    if not ids:
        raise RagError(f"{coll.info.label!r} is empty: add documents before measuring retrieval.")
    random.Random(seed).shuffle(ids)
    for i in range(0, len(ids), _FETCH):
        batch = ids[i : i + _FETCH]
        with guard(coll.config):
            got = coll.chroma.get(ids=batch, include=["documents", "metadatas"])
        found = {c: (d, m or {}) for c, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
        for c in batch:
            if c in found:
                text, meta = found[c]
                yield c, text or "", str(meta.get("doc_hash", "")), int(meta.get("start", -1))


def _visible(text: str, start: int, spans: list[tuple[int, int]] | None) -> str:
    """The chunk's prose, judged with its document's code blocks when its place is known."""
    if spans is None or start < 0:
        return prose(text)
    inside = [(a - start, b - start) for a, b in spans if a < start + len(text) and b > start]
    return prose(text, inside)


def sample_questions(
    coll: RagCollection, n: int, seed: int, ask: Callable[[str], str] | None = None
) -> list[tuple[str, str, str, str]]:
    """(chunk id, doc_hash, question, origin) for up to n chunks with a question of their own.

    Chunks are drawn in a seeded order; one that is all code, or whose question was already
    asked (two chunks under one heading), is passed over for the next.
    """
    docs, picked, asked = _Documents(coll), [], set()
    for chunk_id, text, doc_hash, start in chunk_order(coll, seed):
        title, spans = docs.get(doc_hash)
        question, origin = make_question(_visible(text, start, spans), ask, title)
        if not question or question.casefold() in asked:
            continue
        asked.add(question.casefold())
        picked.append((chunk_id, doc_hash, question, origin))
        if len(picked) == n:
            break
    return picked


def sample_chunks(coll: RagCollection, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(chunk id, text, doc_hash) of the first n chunks in the seeded order."""
    return [(c, t, h) for c, t, h, _ in itertools.islice(chunk_order(coll, seed), n)]


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
    sample = sample_questions(coll, n, seed, ask)
    if not sample:
        raise RagError(f"{coll.info.label!r} has no prose to ask about (only code or images).")
    sources = {d.doc_hash: d.source for d in documents(coll)}
    rows = []
    for done, (chunk_id, doc_hash, question, origin) in enumerate(sample, start=1):
        ids = tuple(h.chunk_id for h in retrieve(coll, question, k, mmr))
        rank = ids.index(chunk_id) + 1 if chunk_id in ids else None
        rows.append(QualityRow(question, origin, chunk_id, sources.get(doc_hash, ""), rank, ids))
        on_step(done, len(sample))
    return QualityReport(k, seed, tuple(rows))
