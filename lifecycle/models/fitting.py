"""Fitting a prompt into the context window: refuse it, or cut the input and keep the rest."""

from __future__ import annotations

from collections.abc import Callable

from lifecycle.models.protocol import (
    ChatModel,
    ContextError,
    GenerationError,
    GenParams,
    Messages,
)

CUT_MARK = " […]"  # where the input was cut: the model and the reader both see it
_TAIL_CHARS = 400  # a generic cut keeps a message's last lines (its question, its cue)
_WORD_BACKOFF = 40  # end a cut input at a word boundary within this many characters


def room(lm: ChatModel, params: GenParams) -> int:
    """Prompt tokens the window leaves once the answer's tokens are reserved."""
    return lm.context_window if lm.is_seq2seq else lm.context_window - params.max_new_tokens


def check_fits(lm: ChatModel, used: int, params: GenParams) -> bool:
    """True when the prompt fits; raises when it does not and truncation is not allowed."""
    space = room(lm, params)
    if space < 1:
        raise GenerationError(
            f"{params.max_new_tokens:,} new tokens leave no room for the prompt in the model's "
            f"context window of {lm.context_window:,}: ask for fewer new tokens."
        )
    if used <= space:
        return True
    if not params.truncate:
        raise ContextError(used, params.max_new_tokens, lm.context_window)
    return False


def longest_fit(length: int, build: Callable[[int], Messages], fits: Callable[[Messages], bool]):
    """The messages built from the most characters (0..length) that still fit, and that count."""
    lo, hi = 0, length  # build(lo) fits (checked by the caller), build(hi) does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(build(mid)) else (lo, mid)
    return build(lo), lo


def word_end(text: str, n: int) -> int:
    """n, moved back to the end of a word when one ends shortly before it."""
    space = text.rfind(" ", max(0, n - _WORD_BACKOFF), n + 1)
    return space if space > 0 else n


def cut_input(text: str, n: int) -> str:
    """The first n characters of an input, marked as cut (the whole text when n covers it)."""
    return text if n >= len(text) else text[:n].rstrip() + CUT_MARK


def fit_context(lm: ChatModel, messages: Messages, params: GenParams) -> tuple[Messages, int]:
    """The messages that fit, with the prompt tokens dropped; refuses unless truncation is on.

    Callers that know where the input is (lifecycle.prompting.fit_prompt) cut it themselves;
    this is the runtime's net for any other prompt: the last user message loses the middle of
    its text, so the system message, earlier turns and that message's last lines stay.
    """
    used = lm.count_tokens(messages)
    if check_fits(lm, used, params):
        return messages, 0
    space = room(lm, params)
    last = max(i for i, m in enumerate(messages) if m.get("role") == "user")
    text = str(messages[last]["content"])
    tail = text[-min(_TAIL_CHARS, len(text) // 4) :] if len(text) >= 4 else ""

    def build(n: int) -> Messages:
        kept = text if n >= len(text) - len(tail) else text[:n].rstrip() + CUT_MARK + "\n" + tail
        return [*messages[:last], {**messages[last], "content": kept}, *messages[last + 1 :]]

    if lm.count_tokens(build(0)) > space:
        raise GenerationError(
            "Even with its last message cut, the prompt does not fit the model's context window "
            f"of {lm.context_window:,}: use fewer examples or fewer new tokens."
        )
    fitted, _ = longest_fit(len(text) - len(tail), build, lambda m: lm.count_tokens(m) <= space)
    return fitted, used - lm.count_tokens(fitted)
