"""The transformers runtime: a loaded model and its stream (one class behind ChatModel)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from lifecycle.models.constraints import charset_processor
from lifecycle.models.generation import describe_failure, drain, fit_context, stop_at
from lifecycle.models.progress import Progress
from lifecycle.models.protocol import (
    GenerationError,
    GenerationResult,
    GenParams,
    Messages,
    check_request,
)
from lifecycle.seeding import seeded


@dataclass
class LoadedModel:
    """A model ready to generate, shared by every session: generation holds `lock`."""

    ref: str
    name: str
    kind: str
    model: Any
    tokenizer: Any
    is_seq2seq: bool
    context_window: int
    has_chat_template: bool
    device: str
    load_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: int = 0  # generations queued behind the lock (for "waiting for another tab")

    exact_tokens: bool = True  # count_tokens uses the model's own tokenizer

    @property
    def runtime(self) -> str:
        """Which engine answers, for the page to say."""
        dtype = str(getattr(self.model, "dtype", "")).replace("torch.", "")
        return f"transformers on {self.device} ({dtype})"

    @property
    def parameters(self) -> int:
        """Total parameter count."""
        return sum(p.numel() for p in self.model.parameters())

    # The ChatModel interface (lifecycle.models.protocol).
    def render_prompt(self, messages: Messages) -> str:
        """Exactly the text the model reads: the chat template, or plain turns without one."""
        return template_prompt(self, messages)

    def count_tokens(self, messages: Messages) -> int:
        """Prompt length in tokens of the model's own tokenizer."""
        return len(encode(self, messages))

    def encode_prompt(self, messages: Messages) -> list[int]:
        """Token ids of the rendered prompt (what batched generation feeds the model)."""
        return encode(self, messages)

    def stream(self, messages: Messages, params: GenParams) -> Stream:
        """A transformers stream of text chunks (checked before anything runs)."""
        return Stream(self, messages, params)

    def generate(self, messages: Messages, params: GenParams) -> GenerationResult:
        """Run to the end and return the text with its token counts and timings."""
        return drain(self.stream(messages, params))

    # Optional BatchModel interface (lifecycle.models.batching): greedy prompts in batches.
    def generate_many(self, batch: list[Messages], params: GenParams, width: int) -> list:
        """Answers in order: left-padded batches when greedy, else one at a time."""
        from lifecycle.models.batching import chunks, ordered
        from lifecycle.models.transformers_batch import batchable, generate_batch

        if not batchable(params) or width <= 1:
            return ordered(lambda m: self.generate(m, params), batch, 1)
        return [r for part in chunks(batch, width) for r in generate_batch(self, part, params)]

    def auto_width(self, params: GenParams) -> int:
        """Rows a batch may hold in the free memory (1 when batching would change answers)."""
        from lifecycle.models.transformers_batch import batchable, memory_width

        return memory_width(self, params) if batchable(params) else 1


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


class Stream:
    """Iterate to get text chunks as they are generated; `result` is complete afterwards."""

    def __init__(self, lm: LoadedModel, messages: Messages, params: GenParams):
        check_request(messages, params)
        self.lm, self.params = lm, params
        fitted, dropped = fit_context(lm, messages, params)
        self.ids = encode(lm, fitted)
        self.result = GenerationResult(prompt_tokens=len(self.ids), truncated_tokens=dropped)
        self.progress = Progress(len(self.ids))
        self.cancel = threading.Event()
        self._hit_stop = threading.Event()

    def __iter__(self) -> Iterator[str]:
        self.lm.waiting += 1
        queued = time.perf_counter()
        with self.lm.lock:  # one generation at a time per model: shared by every browser tab
            self.lm.waiting -= 1
            self.result.queue_s = time.perf_counter() - queued
            self.progress.enter("prompt")  # transformers reads it in one pass: no count to show
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
                    self.progress.enter("answer")
                text += chunk
                cut = stop_at(text, self.params.stop)
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
        from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

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
            input_ids = torch.tensor([self.ids], device=self.lm.device)
            kwargs = dict(
                max_new_tokens=p.max_new_tokens,
                do_sample=p.do_sample,
                repetition_penalty=p.repetition_penalty,
                pad_token_id=self.lm.tokenizer.pad_token_id,
            )
            if p.do_sample:
                kwargs.update(temperature=p.temperature, top_k=p.top_k, top_p=p.top_p)
            keep = p.grammar and charset_processor(
                self.lm.tokenizer, p.grammar, _vocab(self.lm.model)
            )
            if keep:
                kwargs["logits_processor"] = LogitsProcessorList([keep])
            # Sampling holds torch's one generator, so the seed alone decides the sample.
            draws = seeded(p.seed) if p.do_sample else nullcontext()
            with draws, torch.inference_mode():
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
            box["error"] = GenerationError(describe_failure(err))
            streamer.end()


def _vocab(model: Any) -> int:
    """Rows of the output layer (it can be larger than the tokenizer's vocabulary)."""
    out = model.get_output_embeddings()
    return int(out.weight.shape[0]) if out is not None else int(model.config.vocab_size)


def _safe_length(text: str, stops: tuple[str, ...]) -> int:
    """How much text can be shown without showing the beginning of a stop sequence."""
    hold = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                hold = max(hold, k)
                break
    return len(text) - hold
