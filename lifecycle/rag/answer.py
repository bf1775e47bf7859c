"""Grounded answers: retrieve, number the sources, answer from them only, map citations back."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lifecycle.models.generation import GenerationResult, GenParams, Messages, generate
from lifecycle.models.protocol import ChatModel
from lifecycle.rag.retrieval import Hit, retrieve
from lifecycle.rag.store import RagCollection

# Measured with the embedded MiniLM on the starter collection (20 questions each): questions the
# guides answer score 0.23-0.61 with their best chunk (median 0.47; terse keyword queries lowest),
# off-topic ones ("best pizza in Naples") 0.04-0.19. 0.25 flags every off-topic question and one
# in twenty on-topic ones; below it the "sources" are noise the model should not ground on.
LOW_RELEVANCE = 0.25
# No example citation numbers in the prompt: a small model echoes "cite them like [1]" back, and
# the echo looked like a citation of source 1.
GROUNDED_SYSTEM = (
    "You answer questions using only the numbered sources you are given. After each fact, "
    "write the number of its source in square brackets. If the sources do not contain the "
    "answer, say that you do not know. Be brief."
)
ASK_AGAIN = (
    "Answer in one or two sentences using only the sources, each fact followed by its "
    "source's number in square brackets."
)
PLAIN_SYSTEM = "You are a helpful assistant. Answer briefly."
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# A bracket number is not a citation where it opens a line followed by "(source)" (the sources
# block echoed), after "like", "as", "e.g." (an instruction echoed), or in a sentence about
# citing itself.
_NOT_AFTER = re.compile(r"\b(?:like|as|e\.g\.|eg|such as|see)\s*$", re.IGNORECASE)
_LINE_START = re.compile(r"(?:^|\n)[ \t]*$")
_ABOUT_CITING = re.compile(r"\bcit(?:e|es|ed|ing)\b|\bsquare brackets\b|\band so on\b", re.I)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass
class Answer:
    """A grounded answer with the sources it was given and those it cited."""

    question: str
    text: str
    hits: list[Hit]
    cited: list[tuple[int, Hit]]  # (source number as written, the hit it points to)
    result: GenerationResult
    low_relevance: bool  # the best source is a poor match: treat the answer with care
    unknown: list[int] = field(default_factory=list)  # cited numbers no source has


def context_block(hits: list[Hit]) -> str:
    """The sources as the model reads them: '[n] (source) text'."""
    return "\n\n".join(f"[{n}] ({h.source}) {h.text}" for n, h in enumerate(hits, start=1))


def _prompt() -> Any:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages(
        [
            ("system", GROUNDED_SYSTEM),
            # Small models follow the last instruction best: repeat the task after the question.
            (
                "human",
                "Sources:\n{context}\n\nQuestion: {question}\n" + ASK_AGAIN,
            ),
        ]
    )


def to_messages(lc_messages: list[Any]) -> Messages:
    """LangChain messages as our chat messages (system | user | assistant)."""
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles[m.type], "content": str(m.content)} for m in lc_messages]


def grounded_messages(question: str, hits: list[Hit]) -> Messages:
    """The grounded prompt, ready for `generate` or `stream` (the page streams with it)."""
    return to_messages(_prompt().format_messages(context=context_block(hits), question=question))


def plain_messages(question: str) -> Messages:
    """The same question without retrieval, for the side-by-side."""
    return [{"role": "system", "content": PLAIN_SYSTEM}, {"role": "user", "content": question}]


def citation_numbers(answer: str) -> list[int]:
    """Numbers the answer uses as citations ("... fact [2]." or "[1, 3]"), in order, each once."""
    found: list[int] = []
    for match in _CITATION.finditer(answer):
        before = answer[: match.start()]
        sentence = _SENTENCE_END.split(before)[-1] + match.group(0)
        after = answer[match.end() :]
        sentence += _SENTENCE_END.split(after, maxsplit=1)[0]
        echo = _LINE_START.search(before) and after.lstrip(" ").startswith("(")  # "[1] (src)"
        if echo or _NOT_AFTER.search(before) or _ABOUT_CITING.search(sentence):
            continue
        for part in match.group(1).split(","):
            if int(part) not in found:
                found.append(int(part))
    return found


def citations(answer: str, hits: list[Hit]) -> list[tuple[int, Hit]]:
    """Citations in the answer mapped to the hits they name (numbers beyond them left out)."""
    return [(n, hits[n - 1]) for n in citation_numbers(answer) if 1 <= n <= len(hits)]


def unknown_citations(answer: str, hits: list[Hit]) -> list[int]:
    """Numbers cited that no source has ([4] when three sources were given, or [0])."""
    return [n for n in citation_numbers(answer) if not 1 <= n <= len(hits)]


def is_low_relevance(hits: list[Hit]) -> bool:
    """True when even the best source is a poor match for the question."""
    return not hits or max(h.score for h in hits) < LOW_RELEVANCE


def answer_chain(
    lm: ChatModel, coll: RagCollection, params: GenParams, k: int = 4, mmr: bool = False
) -> Any:
    """LCEL: question -> retriever -> prompt -> model -> parser; yields a dict of every step."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    def model(messages: Messages) -> GenerationResult:
        return generate(lm, messages, params)  # our runtime: its lock, limits and GenParams

    retriever: RunnableLambda[str, list[Hit]] = RunnableLambda(
        lambda question: retrieve(coll, question, k, mmr)
    )
    prompt: RunnableLambda[dict, dict] = RunnableLambda(
        lambda x: {"context": context_block(x["hits"]), "question": x["q"]}
    )
    return (
        RunnablePassthrough.assign(hits=(lambda x: x["q"]) | retriever)
        | RunnablePassthrough.assign(messages=prompt | _prompt() | (lambda p: p.to_messages()))
        | RunnablePassthrough.assign(
            result=(lambda x: to_messages(x["messages"])) | RunnableLambda(model)
        )
        | RunnablePassthrough.assign(text=(lambda x: x["result"].text) | StrOutputParser())
    )


def grounded_answer(
    lm: ChatModel,
    coll: RagCollection,
    question: str,
    params: GenParams,
    k: int = 4,
    mmr: bool = False,
) -> Answer:
    """Answer from the collection's top-k chunks, with citations mapped back to them."""
    out = answer_chain(lm, coll, params, k, mmr).invoke({"q": question})
    return finish_answer(question, out["hits"], out["result"])


def finish_answer(question: str, hits: list[Hit], result: GenerationResult) -> Answer:
    """An Answer from a streamed result (the page streams `grounded_messages` itself)."""
    text = result.text.strip()
    return Answer(
        question,
        text,
        hits,
        citations(text, hits),
        result,
        is_low_relevance(hits),
        unknown_citations(text, hits),
    )


def plain_answer(lm: ChatModel, question: str, params: GenParams) -> GenerationResult:
    """The model's answer without retrieval."""
    return generate(lm, plain_messages(question), params)


def rag_predictor(
    lm: ChatModel, coll: RagCollection, params: GenParams, k: int = 4, mmr: bool = False
) -> Callable[[str], GenerationResult]:
    """A Predictor (input -> GenerationResult) for evaluation runs: the grounded answer."""
    chain = answer_chain(lm, coll, params, k, mmr)

    def predict(text: str) -> GenerationResult:
        return chain.invoke({"q": text})["result"]

    return predict
