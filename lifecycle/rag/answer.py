"""Grounded answers: retrieve, number the sources, answer from them only, map citations back."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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
GROUNDED_SYSTEM = (
    "You answer questions using only the numbered sources you are given. After each fact, cite "
    "its source as [1], [2], and so on. If the sources do not contain the answer, say that you "
    "do not know. Be brief."
)
PLAIN_SYSTEM = "You are a helpful assistant. Answer briefly."
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


@dataclass
class Answer:
    """A grounded answer with the sources it was given and those it cited."""

    question: str
    text: str
    hits: list[Hit]
    cited: list[tuple[int, Hit]]  # (source number as written, the hit it points to)
    result: GenerationResult
    low_relevance: bool  # the best source is a poor match: treat the answer with care


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
                "Sources:\n{context}\n\nQuestion: {question}\n"
                "Answer in one or two sentences using only the sources, citing them like [1].",
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


def citations(answer: str, hits: list[Hit]) -> list[tuple[int, Hit]]:
    """Citations [n] (or [1, 2]) in the answer mapped to hits, in order, each once."""
    found: list[tuple[int, Hit]] = []
    for group in _CITATION.findall(answer):
        for part in group.split(","):
            n = int(part)
            if 1 <= n <= len(hits) and all(n != m for m, _ in found):
                found.append((n, hits[n - 1]))
    return found


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

    retriever = RunnableLambda(lambda question: retrieve(coll, question, k, mmr))
    prompt = RunnableLambda(lambda x: {"context": context_block(x["hits"]), "question": x["q"]})
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
    return Answer(question, text, hits, citations(text, hits), result, is_low_relevance(hits))


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
