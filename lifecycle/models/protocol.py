"""The one interface every runtime implements (transformers, llama.cpp, endpoints, test fakes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from lifecycle.models.progress import Progress

Messages = list[dict[str, str]]


class GenerationError(Exception):
    """A generation that cannot run or failed; the message says why."""


MAX_NEW_TOKENS = 2048  # beyond this a CPU run takes minutes: almost surely a typo
MAX_GRAMMAR_CHARS = 20_000  # the expression grammar is under 1,000


class ContextError(GenerationError):
    """The prompt does not fit the model's context window."""

    def __init__(self, prompt_tokens: int, max_new_tokens: int, window: int):
        self.prompt_tokens, self.window = prompt_tokens, window
        super().__init__(
            f"The prompt has {prompt_tokens:,} tokens; with {max_new_tokens:,} new tokens that is "
            f"over the model's context window of {window:,}. Shorten it, use fewer examples, or "
            "allow truncation (cuts the end of the input; the instructions stay)."
        )


@dataclass(frozen=True)
class GenParams:
    """Decoding settings; the same settings and seed repeat a run exactly."""

    max_new_tokens: int = 128
    do_sample: bool = False  # greedy when False: deterministic, best for extraction and tests
    temperature: float = 0.7  # < 1 sharper, > 1 more random (sampling only)
    top_k: int = 50  # sample among the k likeliest tokens (0 = no limit)
    top_p: float = 0.95  # ... or the smallest set whose probability reaches p
    repetition_penalty: float = 1.0  # > 1 discourages repeating tokens
    seed: int = 0
    stop: tuple[str, ...] = ()  # generation ends before any of these strings
    truncate: bool = False  # cut the end of an over-long input instead of refusing the prompt
    grammar: str = ""  # GBNF the reply must follow (llama.cpp; transformers keeps its characters)

    def check(self) -> None:
        """Refuse settings no run can use, naming the knob."""
        if not 1 <= self.max_new_tokens <= MAX_NEW_TOKENS:
            raise GenerationError(f"Max new tokens must be between 1 and {MAX_NEW_TOKENS:,}.")
        if self.do_sample and self.temperature <= 0:
            raise GenerationError(
                "Temperature 0 with sampling on is undefined: raise the temperature, or turn "
                "sampling off for greedy decoding (the same thing, done properly)."
            )
        if not 0 < self.top_p <= 1 or self.top_k < 0:
            raise GenerationError("Top-p must be in (0, 1] and top-k at least 0.")
        if self.repetition_penalty <= 0:
            raise GenerationError("Repetition penalty must be positive (1 = off).")
        if len(self.grammar) > MAX_GRAMMAR_CHARS:
            raise GenerationError(f"A grammar has at most {MAX_GRAMMAR_CHARS:,} characters.")


@dataclass
class GenerationResult:
    """What came out and how fast."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0  # from the model's turn (after any queue) to the last token
    ttft_s: float | None = None  # time to first token, also from the model's turn
    finish_reason: str = ""  # length | eos | stop_sequence | cancelled
    truncated_tokens: int = 0  # input tokens dropped to fit the window
    queue_s: float = 0.0  # waiting for another tab's generation on the same model
    counts: str = "exact"  # exact | estimated (a server that reports no usage while streaming)

    @property
    def tokens_per_s(self) -> float:
        """Completion tokens per second after the first token."""
        span = self.latency_s - (self.ttft_s or 0.0)
        return (self.completion_tokens - 1) / span if self.completion_tokens > 1 and span else 0.0

    @property
    def total_s(self) -> float:
        """What the person waited: the queue, then the generation."""
        return self.queue_s + self.latency_s


def check_request(messages: Messages, params: GenParams) -> None:
    """The refusals every runtime shares: impossible knobs, an empty prompt."""
    params.check()
    if not any(str(m.get("content", "")).strip() for m in messages if m.get("role") == "user"):
        raise GenerationError("The prompt is empty: type something for the model to answer.")


@runtime_checkable
class ChatStream(Protocol):
    """Iterate for text chunks; `result` is complete afterwards (even after a stop mid-way)."""

    result: GenerationResult
    progress: Progress  # queued, reading the prompt or answering: for signs of life

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
