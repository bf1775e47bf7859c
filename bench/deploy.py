"""Dynamic int8 vs fp32 on the embedded model, same run: speed, memory, disk and quality.

Prints decode tokens/s and time to first token of both (greedy, same prompt, rounds interleaved),
their ratio (goal >= 1.5x), tensor memory and folder size, and ROUGE-L of both on the first
dialogue summaries of the shipped test split (the quality delta).
Run: .venv/bin/python -m bench.deploy [--quick]   (uses the app's data folder, LIFECYCLE_HOME)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from lifecycle.data_folder import folder_size
from lifecycle.deploy.measure import MeasureConfig, run_slice
from lifecycle.deploy.variants import (
    load_source,
    load_variant,
    memory_bytes,
    save_variant,
    to_int8,
    wrap,
)
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.metrics import aggregate
from lifecycle.models import EMBEDDED, GenParams, generate
from lifecycle.models.sources import embedded_folder

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a long story about a dragon who learns to bake bread."},
]


def speed(models: dict, rounds: int, new_tokens: int) -> dict[str, tuple[float, float]]:
    """Median decode tokens/s and time to first token of each model, rounds interleaved."""
    params = GenParams(max_new_tokens=new_tokens)
    for lm in models.values():
        generate(lm, MESSAGES, params)  # warm-up
    runs: dict[str, list] = {name: [] for name in models}
    for _ in range(rounds):  # interleaved so drift on a shared machine hits both equally
        for name, lm in models.items():
            runs[name].append(generate(lm, MESSAGES, params))
    return {
        name: (
            statistics.median(r.tokens_per_s for r in results),
            statistics.median(r.ttft_s or 0.0 for r in results),
        )
        for name, results in runs.items()
    }


def quality(models: dict, examples: int) -> dict[str, tuple[float, list[str]]]:
    """ROUGE-L of each model on the first dialogue summaries, with its predictions."""
    evalset = load_shipped("dialogue_summaries")
    config = MeasureConfig(examples=examples, max_new_tokens=64)
    refs = [e.output for e in evalset.examples[:examples]]
    out = {}
    for name, lm in models.items():
        preds = [r.text.strip() for r in run_slice(lm, evalset, config, lambda i: None)]
        out[name] = (aggregate("rouge", preds, refs)["rougeL"], preds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and examples")
    args = parser.parse_args()
    rounds, new_tokens, examples = (2, 32, 3) if args.quick else (5, 64, 10)

    start = time.perf_counter()
    model, tokenizer, _, _ = load_source(EMBEDDED)  # converts the GGUF once (about 20 s)
    fp32 = wrap(EMBEDDED, model, tokenizer, False, time.perf_counter() - start)
    start = time.perf_counter()
    quantized = to_int8(model, tokenizer)  # a quantized copy; fp32 is untouched
    quantize_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="bench-int8-") as scratch:
        folder = save_variant(quantized, tokenizer, "int8", Path(scratch) / "int8", "")
        int8 = load_variant(folder)
        int8_disk = folder_size(folder, follow_links=True)
    models = {"fp32": fp32, "int8": int8}

    figures = speed(models, rounds, new_tokens)
    scores = quality(models, examples)
    same = sum(a == b for a, b in zip(scores["fp32"][1], scores["int8"][1]))
    (f_tps, f_ttft), (q_tps, q_ttft) = figures["fp32"], figures["int8"]
    mib = 2**20
    fp32_disk = folder_size(embedded_folder(), follow_links=True)
    print(
        f"model: SmolLM2-135M-Instruct on cpu, {torch.get_num_threads()} threads, "
        f"quantized engine {torch.backends.quantized.engine}"
    )
    print(
        f"decode speed  fp32 {f_tps:6.1f} tokens/s | int8 {q_tps:6.1f} tokens/s | "
        f"ratio {q_tps / f_tps:.2f}x (goal >= 1.5x; median of {rounds}, {new_tokens} tokens)"
    )
    print(f"first token   fp32 {f_ttft * 1000:6.0f} ms       | int8 {q_ttft * 1000:6.0f} ms")
    print(
        f"memory        fp32 {memory_bytes(fp32.model) / mib:6.0f} MiB      | "
        f"int8 {memory_bytes(int8.model) / mib:6.0f} MiB (tensors)"
    )
    print(f"disk          fp32 {fp32_disk / mib:6.0f} MiB      | int8 {int8_disk / mib:6.0f} MiB")
    print(
        f"load          fp32 {fp32.load_seconds:6.2f} s        | int8 {int8.load_seconds:6.2f} s "
        f"(quantizing in memory: {quantize_s:.2f} s)"
    )
    print(
        f"ROUGE-L       fp32 {scores['fp32'][0]:.3f}          | int8 {scores['int8'][0]:.3f} | "
        f"delta {scores['int8'][0] - scores['fp32'][0]:+.3f} on {examples} dialogue summaries "
        f"({same} of {examples} answers identical)"
    )


if __name__ == "__main__":
    main()
