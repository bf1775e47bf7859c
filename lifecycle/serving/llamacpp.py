"""The llama.cpp fast path: a GGUF model run in-process by llama-cpp-python (when installed)."""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.models.generation import GenerationError, GenParams, Messages, fit_context
from lifecycle.models.sources import RUN_PREFIX, ModelLoadError, embedded_gguf
from lifecycle.serving.availability import (  # noqa: F401 (this module's public names too)
    INSTALL_HINT,
    llama_available,
    missing_message,
)
from lifecycle.serving.base import ServedModel, ServedStream

MAX_WINDOW = 8192  # KV cache for 8k tokens of the 135M model is ~190 MB; bigger models: less
ENCODED_KEPT = 8  # prompts whose token ids are kept: fitting, counting and running share them
# The KV cache keeps the longest prefix the prompt shares with the previous one (an evaluation's
# system message, instruction and examples) and llama.cpp reads only the rest. A suffix of one
# token is read alone, by other kernels than a fresh read: its logits differed by up to 0.49
# (measured), enough to change a greedy answer, so a suffix shorter than this is read afresh.
# Suffixes of 2-32 tokens and whole inputs gave the fresh read's logits bit for bit.
MIN_FRESH_TOKENS = 16


def gguf_path(location: str = "embedded") -> Path:
    """The GGUF file a llamacpp: ref names (the embedded one, or a path)."""
    if location in ("", "embedded"):
        return embedded_gguf()
    if location.startswith(RUN_PREFIX):  # run:<id>/<quant>: a fine-tune run's GGUF variant
        from lifecycle.deploy.gguf import GgufError, run_gguf

        try:
            return run_gguf(location[len(RUN_PREFIX) :])
        except GgufError as err:
            raise ModelLoadError(str(err)) from err
    path = Path(location).expanduser()
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise ModelLoadError(f"There is no GGUF file at {path} (llama.cpp loads *.gguf files).")
    return path


def default_threads() -> int:
    """All cores: llama-cpp-python's own default (half the cores) halves speed on small VMs."""
    return max(1, os.cpu_count() or 1)


@dataclass
class LlamaCppModel(ServedModel):
    """A GGUF model in this process; generation is serialised by `lock` (not thread-safe)."""

    llm: Any = None
    formatter: Any = None  # the GGUF's own chat template
    template_stops: tuple[str, ...] = ()
    encoded: dict[str, list[int]] = field(default_factory=dict, repr=False)
    encoded_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def render_prompt(self, messages: Messages) -> str:
        """Exactly the text the model reads: the GGUF's chat template applied."""
        return self.formatter(messages=messages).prompt

    def encode(self, messages: Messages) -> list[int]:
        """Token ids of the rendered prompt (the template writes its special tokens).

        A prompt is fitted, counted and run: it is rendered and tokenized once for all three.
        """
        key = json.dumps(messages, sort_keys=True, ensure_ascii=False)
        ids = self.encoded.get(key)
        if ids is None:
            text = self.render_prompt(messages).encode()
            ids = self.llm.tokenize(text, add_bos=False, special=True)
            with self.encoded_lock:  # pages count tokens from other threads
                while len(self.encoded) >= ENCODED_KEPT:
                    self.encoded.pop(next(iter(self.encoded)))
                self.encoded[key] = ids
        return list(ids)

    def count_tokens(self, messages: Messages) -> int:
        """Prompt length with the model's own tokenizer."""
        return len(self.encode(messages))

    def stream(self, messages: Messages, params: GenParams) -> LlamaCppStream:
        """A stream of text chunks."""
        return LlamaCppStream(self, messages, params)


def load_llamacpp(location: str = "embedded", threads: int = 0) -> LlamaCppModel:
    """Load a GGUF file with llama.cpp (about 0.2 s for the embedded model)."""
    if not llama_available():
        raise ModelLoadError(missing_message())
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    path = gguf_path(location)
    start = time.perf_counter()
    try:
        llm = Llama(
            model_path=str(path),
            n_ctx=MAX_WINDOW,
            n_threads=threads or default_threads(),
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as err:
        raise ModelLoadError(f"llama.cpp could not load {path.name}: {err}") from err
    atexit.register(_close, weakref.ref(llm))  # before teardown, which llama.cpp trips over
    window = min(int(llm.metadata.get(f"{_arch(llm)}.context_length", MAX_WINDOW)), MAX_WINDOW)
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ModelLoadError(f"{path.name} has no chat template: llama.cpp cannot prompt it.")
    eos = llm._model.token_get_text(llm.token_eos())
    bos = llm._model.token_get_text(llm.token_bos())
    formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)
    name = "SmolLM2-135M-Instruct" if location in ("", "embedded") else path.stem
    if location.startswith(RUN_PREFIX):
        name = f"Tuned run {location[len(RUN_PREFIX) :].replace('/', ' ')}"
    return LlamaCppModel(
        ref=f"llamacpp:{location or 'embedded'}",
        name=f"{name} (llama.cpp, {path.suffixes[-2][1:] if len(path.suffixes) > 1 else 'gguf'})",
        runtime=f"llama.cpp in-process, {llm.n_threads} threads, {path.name}",
        context_window=window,
        kind="llamacpp",
        exact_tokens=True,
        load_seconds=time.perf_counter() - start,
        llm=llm,
        formatter=formatter,
        template_stops=(eos,),
    )


def _close(ref: weakref.ref) -> None:
    """Free a model still loaded at exit (a weak reference: evicted models are not kept)."""
    llm = ref()
    if llm is not None:
        llm.close()


def _arch(llm: Any) -> str:
    return llm.metadata.get("general.architecture", "llama")


class LlamaCppStream(ServedStream):
    """Tokens from llama.cpp as they come, under the model's lock."""

    def __init__(self, lm: LlamaCppModel, messages: Messages, params: GenParams):
        super().__init__(messages, params)
        self.lm = lm
        fitted, self.result.truncated_tokens = fit_context(lm, messages, params)
        self.ids = lm.encode(fitted)
        self.result.prompt_tokens = self.progress.prompt_tokens = len(self.ids)

    def __iter__(self) -> Iterator[str]:
        self.lm.waiting += 1
        queued = time.perf_counter()
        with self.lm.lock:  # one generation at a time: shared by every browser tab
            self.lm.waiting -= 1
            self.result.queue_s = time.perf_counter() - queued
            yield from self._run()

    def _read_so_far(self) -> int:
        """Prompt tokens llama.cpp has evaluated (it counts them batch by batch)."""
        return min(int(self.lm.llm.n_tokens), len(self.ids))

    def _run(self) -> Iterator[str]:
        p, start, text = self.params, time.perf_counter(), ""
        shared = cached_prefix(self.lm.llm, self.ids)
        if len(self.ids) - shared < MIN_FRESH_TOKENS:
            self.lm.llm.reset()  # read it all afresh: the same prompt gives the same text
        else:
            self.lm.llm.n_tokens = shared  # as llama_cpp does on a prefix hit; it reads the rest
        self.progress.enter("prompt", self._read_so_far)
        pieces = self.lm.llm.create_completion(
            self.ids,
            max_tokens=p.max_new_tokens,
            temperature=p.temperature if p.do_sample else 0.0,  # 0 = greedy
            top_k=p.top_k if p.do_sample else 1,
            top_p=p.top_p if p.do_sample else 1.0,
            repeat_penalty=p.repetition_penalty,
            seed=p.seed,
            stop=[*self.lm.template_stops, *p.stop],
            stream=True,
            grammar=_grammar(p.grammar),
        )
        reason = "cancelled"  # unless the loop ends normally
        try:
            for chunk in pieces:
                choice = chunk["choices"][0]
                piece = choice.get("text") or ""
                if choice.get("finish_reason"):
                    reason = _reason(choice["finish_reason"], p.stop)
                else:
                    self.result.completion_tokens += 1  # one chunk per sampled token
                if piece:
                    if self.result.ttft_s is None:
                        self.result.ttft_s = time.perf_counter() - start
                        self.progress.enter("answer")
                    text += piece
                    yield piece
        except (RuntimeError, ValueError) as err:
            raise GenerationError(f"llama.cpp failed: {err}") from err
        finally:
            pieces.close()  # a stop pressed mid-way ends llama.cpp's loop too
            self.result.text = text
            self.result.finish_reason = reason
            self.result.latency_s = time.perf_counter() - start


def cached_prefix(llm: Any, ids: list[int]) -> int:
    """Leading tokens of `ids` already in llama.cpp's KV cache (it reads only the rest)."""
    cached = llm.input_ids[: llm.n_tokens].tolist()
    shared = 0
    for a, b in zip(cached, ids):
        if a != b:
            break
        shared += 1
    return shared


def _grammar(gbnf: str) -> Any:
    """llama.cpp's parsed grammar (None for free text); a bad one is a GenerationError."""
    if not gbnf:
        return None
    from llama_cpp import LlamaGrammar

    try:
        return LlamaGrammar.from_string(gbnf, verbose=False)
    except (ValueError, RuntimeError) as err:
        raise GenerationError(f"llama.cpp refused the grammar: {err}") from err


def _reason(finish: str, stops: tuple[str, ...]) -> str:
    """Our names; llama.cpp says 'stop' for the end token and a stop sequence alike."""
    if finish == "length":
        return "length"
    return "eos/stop_sequence" if stops else "eos"
