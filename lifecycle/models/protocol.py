"""The one interface every runtime implements (transformers, llama.cpp, endpoints, test fakes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from lifecycle.models.generation import GenerationResult, GenParams

Messages = list[dict[str, str]]


class GenerationError(Exception):
    """A generation that cannot run or failed; the message says why."""


def check_request(messages: Messages, params: GenParams) -> None:
    """The refusals every runtime shares: impossible knobs, an empty prompt."""
    params.check()
    if not any(str(m.get("content", "")).strip() for m in messages if m.get("role") == "user"):
        raise GenerationError("The prompt is empty: type something for the model to answer.")


@runtime_checkable
class ChatStream(Protocol):
    """Iterate for text chunks; `result` is complete afterwards (even after a stop mid-way)."""

    result: GenerationResult

    def __iter__(self) -> Iterator[str]: ...


@runtime_checkable
class ChatModel(Protocol):
    """A model that answers chat messages; pages and evaluation use nothing else of it."""

    ref: str  # what the user picked: embedded:..., a folder, run:<id>, llamacpp:..., endpoint:...
    name: str
    context_window: int
    is_seq2seq: bool
    exact_tokens: bool  # True when count_tokens uses the model's own tokenizer
    load_seconds: float
    lock: threading.Lock  # one generation at a time: the model is shared by every browser tab
    waiting: int  # generations queued behind the lock

    @property
    def runtime(self) -> str:
        """Which engine answers, for the page to say."""
        ...

    def render_prompt(self, messages: Messages) -> str:
        """Exactly what the model reads (or, for a server, what is sent)."""
        ...

    def count_tokens(self, messages: Messages) -> int:
        """Prompt tokens (an estimate where `exact_tokens` is False)."""
        ...

    def stream(self, messages: Messages, params: GenParams) -> ChatStream:
        """Check the request, then a stream of text chunks."""
        ...

    def generate(self, messages: Messages, params: GenParams) -> GenerationResult:
        """Run to the end and return the text with its token counts and timings."""
        ...


# A runtime is opened from a ref by the function registered for its prefix (see open_runtime).
Opener = Callable[[str], ChatModel]
_RUNTIMES: dict[str, Opener] = {}


def register_runtime(prefix: str, opener: Opener) -> None:
    """Make refs starting with `prefix` open through `opener` (adding a runtime is one call)."""
    _RUNTIMES[prefix] = opener


def registered_opener(ref: str) -> Opener | None:
    """The opener registered for this ref's prefix, if any (the longest prefix wins)."""
    hits = [p for p in _RUNTIMES if ref.startswith(p)]
    return _RUNTIMES[max(hits, key=len)] if hits else None
