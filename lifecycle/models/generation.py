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


def stop_at(text: str, stops: tuple[str, ...]) -> int | None:
    """Where the first stop sequence starts in `text`, or None."""
    hits = [text.find(s) for s in stops if s and s in text]
    return min(hits) if hits else None


def describe_failure(err: Exception) -> str:
    """A failed generation in words a user can act on."""
    text = str(err)
    if "out of memory" in text.lower() or isinstance(err, MemoryError):
        return (
            "The model ran out of memory: use fewer examples, fewer new tokens or a smaller model."
        )
    return f"Generation failed: {type(err).__name__}: {text.splitlines()[0] if text else ''}"
