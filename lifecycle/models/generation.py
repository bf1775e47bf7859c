"""Generation for every runtime, through the one interface (lifecycle.models.protocol)."""

from __future__ import annotations

from lifecycle.models.fitting import fit_context, room
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
    "room",
    "stream",
]


def render_prompt(lm: ChatModel, messages: Messages) -> str:
    """Exactly the text the model reads (any runtime)."""
    return lm.render_prompt(messages)


def count_tokens(lm: ChatModel, messages: Messages) -> int:
    """Prompt length in tokens (an estimate for endpoints: see `exact_tokens`)."""
    return lm.count_tokens(messages)


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
