"""A ChatModel that replays queued answers (as simonw/llm's MockModel): flows in milliseconds.

Register it once with `install()`; any ref starting with `fake:` then opens it through the same
opener the pages use. Queue answers with `FAKE.enqueue("...")`; with nothing queued it echoes
the last user message, so a page never blocks on an empty queue.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from lifecycle.models import GenerationResult, GenParams, register_runtime
from lifecycle.models.fitting import fit_context
from lifecycle.models.progress import Progress
from lifecycle.models.protocol import ChatModel, Messages, check_request

PREFIX = "fake:"


@dataclass
class FakeModel:
    """Answers from a queue; records every prompt it was sent."""

    ref: str = PREFIX + "model"
    name: str = "Fake model"
    context_window: int = 4096
    is_seq2seq: bool = False
    exact_tokens: bool = True
    load_seconds: float = 0.0
    tokenizer: None = None  # no local Hugging Face tokenizer (as a served model)
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: int = 0
    answers: deque[str] = field(default_factory=deque)
    prompts: list[Messages] = field(default_factory=list)
    prefill_s: float = 0.0  # seconds each answer waits before its first word
    params: list[GenParams] = field(default_factory=list)  # the settings of every generation

    @property
    def runtime(self) -> str:
        return "fake (replays queued answers)"

    def enqueue(self, *answers: str) -> FakeModel:
        """Answers to give, in order, to the next generations."""
        self.answers.extend(answers)
        return self

    def render_prompt(self, messages: Messages) -> str:
        return json.dumps(messages, ensure_ascii=False)

    def count_tokens(self, messages: Messages) -> int:
        return sum(len(str(m.get("content", "")).split()) for m in messages)

    def stream(self, messages: Messages, params: GenParams) -> FakeStream:
        check_request(messages, params)
        messages, dropped = fit_context(self, messages, params)  # the runtimes' shared net
        self.prompts.append(messages)
        self.params.append(params)
        last = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        answer = self.answers.popleft() if self.answers else f"echo: {last}"
        run = FakeStream(self, answer, self.count_tokens(messages), params)
        run.result.truncated_tokens = dropped
        return run

    def generate(self, messages: Messages, params: GenParams) -> GenerationResult:
        run = self.stream(messages, params)
        for _ in run:
            pass
        return run.result


class FakeStream:
    """Yields the answer word by word, honouring max_new_tokens and stop sequences."""

    def __init__(self, lm: FakeModel, answer: str, prompt_tokens: int, params: GenParams):
        self.lm, self.answer, self.params = lm, answer, params
        self.result = GenerationResult(prompt_tokens=prompt_tokens)
        self.progress = Progress(prompt_tokens)

    def __iter__(self) -> Iterator[str]:
        queued = time.perf_counter()
        with self.lm.lock:  # held for the whole answer, as a real runtime does
            self.result.queue_s = time.perf_counter() - queued
            self.progress.enter("prompt")
            yield from self._answer()

    def _answer(self) -> Iterator[str]:
        start = time.perf_counter()
        if self.lm.prefill_s:  # a slow prompt, for pages that show signs of life
            time.sleep(self.lm.prefill_s)
        words = self.answer.split(" ")
        cut = words[: self.params.max_new_tokens]
        text = " ".join(cut)
        hits = [text.find(s) for s in self.params.stop if s and s in text]
        reason = "length" if len(cut) < len(words) else "eos"
        if hits:
            text, reason = text[: min(hits)], "stop_sequence"
        for i, word in enumerate(text.split(" ")):
            chunk = word if i == 0 else " " + word
            if i == 0:
                self.result.ttft_s = time.perf_counter() - start
                self.progress.enter("answer")
            yield chunk
        self.result.text = text
        self.result.completion_tokens = len(text.split())
        self.result.latency_s = time.perf_counter() - start
        self.result.finish_reason = reason


FAKE = FakeModel()


def install() -> FakeModel:
    """Register the `fake:` runtime and return the shared fake with an empty queue."""
    FAKE.answers.clear()
    FAKE.prompts.clear()
    FAKE.params.clear()
    FAKE.prefill_s = 0.0
    FAKE.context_window = 4096
    FAKE.exact_tokens = True
    register_runtime(PREFIX, lambda ref: FAKE)
    return FAKE


def is_chat_model(obj: object) -> bool:
    """True when `obj` implements the one model interface."""
    return isinstance(obj, ChatModel)
