"""Many prompts at once: batches on transformers, concurrent requests to endpoints, in order.

A runtime that can answer several prompts faster than one by one implements `BatchModel`
(`generate_many` and `auto_width`); any other ChatModel answers them one at a time. Callers
never branch on the runtime: they call `generate_many(lm, ...)` and get results in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Protocol, TypeVar, runtime_checkable

from lifecycle.models.protocol import (
    ChatModel,
    GenerationError,
    GenerationResult,
    GenParams,
    Messages,
)

MAX_WIDTH = 16  # examples answered at once, whatever the runtime
Outcome = GenerationResult | GenerationError  # one prompt's answer, or why it has none
T = TypeVar("T")


@runtime_checkable
class BatchModel(Protocol):
    """A runtime that answers several prompts at once (optional beside ChatModel)."""

    def generate_many(self, batch: list[Messages], params: GenParams, width: int) -> list[Outcome]:
        """One outcome per prompt, in the prompts' order."""
        ...

    def auto_width(self, params: GenParams) -> int:
        """How many prompts to answer at once with these settings (1 = one at a time)."""
        ...


def auto_width(lm: ChatModel, params: GenParams) -> int:
    """The runtime's own choice of width (1 for runtimes that answer one at a time)."""
    if isinstance(lm, BatchModel):
        return max(1, min(MAX_WIDTH, lm.auto_width(params)))
    return 1


def generate_many(
    lm: ChatModel, batch: list[Messages], params: GenParams, width: int = 0
) -> list[Outcome]:
    """Answers to every prompt in order, `width` at a time (0 = the runtime's choice)."""
    width = min(MAX_WIDTH, width or auto_width(lm, params))
    if width > 1 and len(batch) > 1 and isinstance(lm, BatchModel):
        return lm.generate_many(batch, params, width)
    return [outcome(partial(lm.generate, m, params)) for m in batch]


def outcome(call: Callable[[], GenerationResult]) -> Outcome:
    """The result of a call, or the GenerationError it raised (other errors propagate)."""
    try:
        return call()
    except GenerationError as err:
        return err


def ordered(call: Callable[[T], GenerationResult], items: Sequence[T], width: int) -> list[Outcome]:
    """`call` on every item with up to `width` running at once; outcomes in the items' order."""
    if width <= 1 or len(items) <= 1:
        return [outcome(partial(call, i)) for i in items]
    with ThreadPoolExecutor(max_workers=min(width, len(items))) as pool:
        return list(pool.map(lambda i: outcome(lambda: call(i)), items))


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive pieces of at most `size` items (at least 1), in order, none empty."""
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
