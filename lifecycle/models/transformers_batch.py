"""Batched greedy generation on transformers: left-padded prompts in one `generate` call.

On a CPU a small model's decoding is bound by reading its weights once per token: a batch of 8
reads them once for 8 answers. Only greedy decoding without a grammar or a repetition penalty
is batched, so the answers are the single path's up to padding noise (the penalty would count
the pad tokens, and a seeded sample depends on what else is in the batch).
"""

from __future__ import annotations

import time
from typing import Any

from lifecycle.models.batching import Outcome
from lifecycle.models.generation import describe_failure, fit_context, stop_at
from lifecycle.models.protocol import (
    GenerationError,
    GenerationResult,
    GenParams,
    Messages,
    check_request,
)

# transformers_model.LoadedModel, which calls this module: named here, never imported (no cycle)
LoadedModel = Any

MAX_BATCH = 8  # past 8 rows a 2-core CPU gains little and the padding waste grows
MEMORY_SHARE = 0.25  # of the memory free now that one batch may use
TYPICAL_PROMPT = 512  # tokens per row assumed when sizing a batch before seeing the prompts


def batchable(params: GenParams) -> bool:
    """True when a batch gives the answers one-by-one generation gives (greedy, no extras)."""
    return not params.do_sample and not params.grammar and params.repetition_penalty == 1.0


def memory_width(lm: LoadedModel, params: GenParams, prompt_tokens: int = TYPICAL_PROMPT) -> int:
    """Rows that fit in a share of the free memory (1..MAX_BATCH): KV cache plus logits."""
    per_row = row_bytes(lm.model.config, prompt_tokens + params.max_new_tokens, lm.model.dtype)
    return max(1, min(MAX_BATCH, int(free_bytes(lm.device) * MEMORY_SHARE) // max(1, per_row)))


def row_bytes(config: Any, tokens: int, dtype: Any = None) -> int:
    """Memory one row of a batch needs: its KV cache, hidden states and a row of logits."""
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    size = getattr(dtype, "itemsize", 4)
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "n_embd", 0) or 1024)
    layers = int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layer", 0) or 24)
    heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "n_head", 0) or 1)
    kv_heads = int(getattr(config, "num_key_value_heads", 0) or heads)
    head_dim = int(getattr(config, "head_dim", 0) or hidden // heads)
    kv = 2 * layers * kv_heads * head_dim * tokens * size
    activations = 4 * hidden * tokens * size  # the prompt's pass: a few hidden-size buffers
    logits = 2 * int(getattr(config, "vocab_size", 50_000)) * 4
    return kv + activations + logits


def free_bytes(device: str) -> int:
    """Memory free now on the model's device."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info()[0])
    import psutil

    return int(psutil.virtual_memory().available)


def generate_batch(lm: LoadedModel, batch: list[Messages], params: GenParams) -> list[Outcome]:
    """Answers in order, all in one batch; a prompt that cannot run gets its error."""
    outcomes: list[Outcome | None] = [None] * len(batch)
    rows: list[tuple[int, list[int], int]] = []  # (index, prompt ids, tokens dropped)
    for i, messages in enumerate(batch):
        try:
            check_request(messages, params)
            fitted, dropped = fit_context(lm, messages, params)
            rows.append((i, _encode(lm, fitted), dropped))
        except GenerationError as err:
            outcomes[i] = err
    for (i, _, _), result in zip(rows, _run_locked(lm, rows, params) if rows else []):
        outcomes[i] = result
    return [o if o is not None else GenerationError("No answer.") for o in outcomes]


def _encode(lm: LoadedModel, messages: Messages) -> list[int]:
    return lm.encode_prompt(messages)


def _run_locked(lm: LoadedModel, rows: list, params: GenParams) -> list[Outcome]:
    """One `generate` call for the rows, under the model's lock (shared by every tab)."""
    lm.waiting += 1
    queued = time.perf_counter()
    with lm.lock:
        lm.waiting -= 1
        queue_s = time.perf_counter() - queued
        start = time.perf_counter()
        try:
            out, offset = _generate(lm, [ids for _, ids, _ in rows], params)
        except Exception as err:  # every row gets the readable reason
            return [GenerationError(describe_failure(err)) for _ in rows]
        latency = time.perf_counter() - start
    results: list[Outcome] = []
    for r, (_, ids, dropped) in enumerate(rows):
        result = _decode(lm, out[r, offset:].tolist(), params)
        result.prompt_tokens, result.truncated_tokens = len(ids), dropped
        result.latency_s, result.queue_s = latency, queue_s  # each answer took the batch's time
        results.append(result)
    return results


def _generate(lm: LoadedModel, prompts: list[list[int]], params: GenParams) -> tuple[Any, int]:
    """Token ids out of one padded batch, and where the answers start."""
    import torch

    pad = _pad_id(lm)
    # causal models read left-padded rows (the answer continues every row's last token);
    # an encoder reads its rows in any padding: right, as its tokenizer does
    padded, mask = pad_rows(prompts, pad, left=not lm.is_seq2seq)
    width = len(padded[0])
    input_ids = torch.tensor(padded, device=lm.device)
    with torch.inference_mode():
        out = lm.model.generate(
            input_ids=input_ids,
            attention_mask=torch.tensor(mask, device=lm.device),
            max_new_tokens=params.max_new_tokens,
            do_sample=False,
            repetition_penalty=params.repetition_penalty,
            pad_token_id=pad,
        )
    return out, 1 if lm.is_seq2seq else width  # seq2seq: after the decoder's start token


def pad_rows(prompts: list[list[int]], pad: int, left: bool) -> tuple[list, list]:
    """Rows of equal length and their attention masks (1 = a prompt token)."""
    width = max(len(ids) for ids in prompts)
    rows, masks = [], []
    for ids in prompts:
        fill = width - len(ids)
        rows.append([pad] * fill + ids if left else ids + [pad] * fill)
        masks.append([0] * fill + [1] * len(ids) if left else [1] * len(ids) + [0] * fill)
    return rows, masks


def _pad_id(lm: LoadedModel) -> int:
    tok = lm.tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    return int(pad if pad is not None else 0)


def _eos_ids(lm: LoadedModel) -> set[int]:
    ids = getattr(lm.model.generation_config, "eos_token_id", None)
    ids = ids if isinstance(ids, list) else [ids]
    ids.append(lm.tokenizer.eos_token_id)
    return {int(i) for i in ids if i is not None}


def _decode(lm: LoadedModel, tokens: list[int], params: GenParams) -> GenerationResult:
    """One row's answer: up to its end token, cut at a stop sequence as the stream does."""
    eos = _eos_ids(lm)
    end = next((k + 1 for k, t in enumerate(tokens) if t in eos), len(tokens))
    tokens = tokens[:end]  # rows that ended early are filled with padding after their end
    text = lm.tokenizer.decode(tokens, skip_special_tokens=True)
    reason = "length" if len(tokens) >= params.max_new_tokens else "eos"
    cut = stop_at(text, params.stop)
    if cut is not None:
        text, reason = text[:cut], "stop_sequence"
        tokens = tokens[: _tokens_to_stop(lm, tokens, params.stop)]
    return GenerationResult(text=text, completion_tokens=len(tokens), finish_reason=reason)


def _tokens_to_stop(lm: LoadedModel, tokens: list[int], stops: tuple[str, ...]) -> int:
    """The fewest tokens whose text already holds a stop sequence (where the stream halts)."""
    lo, hi = 0, len(tokens)  # tokens[:hi] holds one, tokens[:lo] does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        text = lm.tokenizer.decode(tokens[:mid], skip_special_tokens=True)
        lo, hi = (lo, mid) if stop_at(text, stops) is not None else (mid, hi)
    return hi
