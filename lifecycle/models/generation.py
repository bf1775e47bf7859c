"""Generation for every runtime: decoding settings, results, and the transformers stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lifecycle.models.loader import LoadedModel
from lifecycle.models.protocol import (
    ChatModel,
    ChatStream,
    GenerationError,
    Messages,
    check_request,
)

MAX_NEW_TOKENS = 2048  # beyond this a CPU run takes minutes: almost surely a typo


class ContextError(GenerationError):
    """The prompt does not fit the model's context window."""

    def __init__(self, prompt_tokens: int, max_new_tokens: int, window: int):
        self.prompt_tokens, self.window = prompt_tokens, window
        super().__init__(
            f"The prompt has {prompt_tokens:,} tokens; with {max_new_tokens:,} new tokens that is "
            f"over the model's context window of {window:,}. Shorten it, use fewer examples, or "
            "allow truncation (drops the start of the prompt)."
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
    truncate: bool = False  # drop the start of an over-long prompt instead of refusing it

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


@dataclass
class GenerationResult:
    """What came out and how fast."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    ttft_s: float | None = None  # time to first token
    finish_reason: str = ""  # length | eos | stop_sequence | cancelled
    truncated_tokens: int = 0  # prompt tokens dropped to fit the window
    counts: str = "exact"  # exact | estimated (a server that reports no usage while streaming)

    @property
    def tokens_per_s(self) -> float:
        """Completion tokens per second after the first token."""
        span = self.latency_s - (self.ttft_s or 0.0)
        return (self.completion_tokens - 1) / span if self.completion_tokens > 1 and span else 0.0


def render_prompt(lm: ChatModel, messages: Messages) -> str:
    """Exactly the text the model reads (any runtime)."""
    return lm.render_prompt(messages)


def template_prompt(lm: LoadedModel, messages: Messages) -> str:
    """A transformers model's prompt: its chat template, or plain turns without one."""
    if lm.has_chat_template:
        return lm.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
    parts = [m["content"] for m in messages if m["role"] == "system"]
    for m in messages:
        if m["role"] == "user":
            parts.append(m["content"])
        elif m["role"] == "assistant":
            parts.append(m["content"])
    return "\n\n".join(p for p in parts if p)


def encode(lm: LoadedModel, messages: Messages) -> list[int]:
    """Token ids of the rendered prompt (special tokens come from the template itself)."""
    text = template_prompt(lm, messages)
    return lm.tokenizer(text, add_special_tokens=not lm.has_chat_template)["input_ids"]


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


class Stream:
    """Iterate to get text chunks as they are generated; `result` is complete afterwards."""

    def __init__(self, lm: LoadedModel, messages: Messages, params: GenParams):
        check_request(messages, params)
        self.lm, self.params = lm, params
        ids, dropped = fit_context(lm, encode(lm, messages), params)
        self.ids = ids
        self.result = GenerationResult(prompt_tokens=len(ids), truncated_tokens=dropped)
        self.cancel = threading.Event()
        self._hit_stop = threading.Event()

    def __iter__(self) -> Iterator[str]:
        self.lm.waiting += 1
        with self.lm.lock:  # one generation at a time per model: shared by every browser tab
            self.lm.waiting -= 1
            yield from self._run()

    def _run(self) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(
            self.lm.tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        box: dict[str, Any] = {}
        worker = threading.Thread(target=self._generate, args=(streamer, box), daemon=True)
        start = time.perf_counter()
        worker.start()
        text, sent = "", 0
        try:
            for chunk in streamer:
                if chunk and self.result.ttft_s is None:
                    self.result.ttft_s = time.perf_counter() - start
                text += chunk
                cut = _stop_at(text, self.params.stop)
                if cut is not None:
                    text = text[:cut]
                    self._hit_stop.set()
                safe = len(text) if cut is not None else _safe_length(text, self.params.stop)
                if safe > sent:
                    yield text[sent:safe]
                    sent = safe
                if cut is not None:
                    break
            if sent < len(text):
                yield text[sent:]
        finally:
            self.cancel.set()  # also reached when the page stops the stream mid-way
            worker.join()
            self.result.latency_s = time.perf_counter() - start
            if "first_token_at" in box:  # the token's time, not when its word was complete
                self.result.ttft_s = box["first_token_at"] - start
            self.result.text = text
            self.result.completion_tokens = box.get("new_tokens", 0)
            self.result.finish_reason = self._finish_reason(box)
        if "error" in box:
            raise box["error"]

    def _finish_reason(self, box: dict) -> str:
        if self._hit_stop.is_set():
            return "stop_sequence"
        if box.get("cancelled"):
            return "cancelled"
        return "length" if box.get("new_tokens", 0) >= self.params.max_new_tokens else "eos"

    def _generate(self, streamer: Any, box: dict) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        outer = self

        class Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs) -> bool:
                # Called once a token is sampled: the streamer shows text only at word ends.
                box.setdefault("first_token_at", time.perf_counter())
                if outer.cancel.is_set() and not outer._hit_stop.is_set():
                    box["cancelled"] = True  # stopped from the page, not by the model
                return outer.cancel.is_set() or outer._hit_stop.is_set()

        try:
            p = self.params
            torch.manual_seed(p.seed)  # under the lock, so the seed alone decides the sample
            input_ids = torch.tensor([self.ids], device=self.lm.device)
            kwargs = dict(
                max_new_tokens=p.max_new_tokens,
                do_sample=p.do_sample,
                repetition_penalty=p.repetition_penalty,
                pad_token_id=self.lm.tokenizer.pad_token_id,
            )
            if p.do_sample:
                kwargs.update(temperature=p.temperature, top_k=p.top_k, top_p=p.top_p)
            with torch.inference_mode():
                out = self.lm.model.generate(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([Halt()]),
                    **kwargs,
                )
            offset = 1 if self.lm.is_seq2seq else input_ids.shape[1]  # seq2seq: start token
            box["new_tokens"] = int(out.shape[1] - offset)
        except Exception as err:  # surfaced in the page's thread with a readable message
            box["error"] = GenerationError(_describe(err))
            streamer.end()


def _stop_at(text: str, stops: tuple[str, ...]) -> int | None:
    hits = [text.find(s) for s in stops if s and s in text]
    return min(hits) if hits else None


def _safe_length(text: str, stops: tuple[str, ...]) -> int:
    """How much text can be shown without showing the beginning of a stop sequence."""
    hold = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                hold = max(hold, k)
                break
    return len(text) - hold


def _describe(err: Exception) -> str:
    text = str(err)
    if "out of memory" in text.lower() or isinstance(err, MemoryError):
        return (
            "The model ran out of memory: use fewer examples, fewer new tokens or a smaller model."
        )
    return f"Generation failed: {type(err).__name__}: {text.splitlines()[0] if text else ''}"


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
