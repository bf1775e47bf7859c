"""Generation for every runtime, through the one interface (lifecycle.models.protocol)."""

from __future__ import annotations

from lifecycle.models.protocol import (
    MAX_NEW_TOKENS,
    ChatModel,
    ChatStream,
    ContextError,
    GenerationError,
    GenerationResult,
    GenParams,
    Messages,
)

__all__ = [
    "MAX_NEW_TOKENS",
    "ChatModel",
    "ChatStream",
    "ContextError",
    "GenParams",
    "GenerationError",
    "GenerationResult",
    "Messages",
    "count_tokens",
    "drain",
    "fit_context",
    "generate",
    "render_prompt",
    "stream",
]


def render_prompt(lm: ChatModel, messages: Messages) -> str:
    """Exactly the text the model reads (any runtime)."""
    return lm.render_prompt(messages)


def count_tokens(lm: ChatModel, messages: Messages) -> int:
    """Prompt length in tokens (an estimate for endpoints: see `exact_tokens`)."""
    return lm.count_tokens(messages)


def fit_context(lm: ChatModel, ids: list[int], params: GenParams) -> tuple[list[int], int]:
    """The ids that fit the window with room to answer; refuses unless truncation is allowed."""
    room = lm.context_window if lm.is_seq2seq else lm.context_window - params.max_new_tokens
    if len(ids) <= room:
        return ids, 0
    if room < 1:
        raise GenerationError(
            f"{params.max_new_tokens:,} new tokens leave no room for the prompt in the model's "
            f"context window of {lm.context_window:,}: ask for fewer new tokens."
        )
    if not params.truncate:
        raise ContextError(len(ids), params.max_new_tokens, lm.context_window)
    return ids[len(ids) - room :], len(ids) - room


def stream(lm: ChatModel, messages: Messages, params: GenParams) -> ChatStream:
    """A stream of text chunks from any runtime; the prompt is checked before anything runs."""
    return lm.stream(messages, params)


def generate(lm: ChatModel, messages: Messages, params: GenParams) -> GenerationResult:
    """Run to the end and return the text with its token counts and timings."""
    return lm.generate(messages, params)


def drain(run: ChatStream) -> GenerationResult:
    """Consume a stream and return its result (what `generate` does on most runtimes)."""
    for _ in run:
        pass
    return run.result
