"""GGUF variants on llama.cpp vs the fp32 torch model, through the Deploy page's own measurement.

Builds F16, Q8_0 and Q4_K_M with llama.cpp's converter and quantizer (`make llama`), then measures
them with fp32 in interleaved rounds (warmed up, medians): tokens/s, first token, memory, disk,
ROUGE-L with its 95 % interval on the first dialogue summaries. Goal: Q4_K_M >= 5x the tokens/s
of fp32 with overlapping ROUGE-L intervals.
Run: .venv/bin/python -m bench.deploy_gguf [--run <fine-tune run id>] [--examples 10]
(without --run: the embedded SmolLM2; uses the app's data folder, LIFECYCLE_HOME)
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from lifecycle.deploy.benchmark import measure_variants
from lifecycle.deploy.measure import MeasureConfig
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.models import EMBEDDED
from lifecycle.models.sources import convert_embedded

NAMES = ("fp32", "gguf-F16", "gguf-Q8_0", "gguf-Q4_K_M")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="", help="a fine-tune run id (default: embedded model)")
    parser.add_argument("--examples", type=int, default=10, help="dialogue summaries measured")
    args = parser.parse_args()
    ref = f"run:{args.run}" if args.run else EMBEDDED
    if ref == EMBEDDED:
        convert_embedded()
    evalset = load_shipped("dialogue_summaries", "test")
    start = time.perf_counter()
    reports = measure_variants(
        ref, evalset, NAMES, MeasureConfig(examples=args.examples), on_step=lambda w, d: None
    )
    print(f"model {ref}: built and measured in {time.perf_counter() - start:.0f} s")
    print(
        f"{'variant':<14}{'tokens/s':>9}{'1st tok ms':>11}{'memory MiB':>11}{'disk MiB':>9}"
        f"{'load s':>7}  ROUGE-L [95 % CI]"
    )
    by_name = {r.name: r for r in reports}
    for r in reports:
        if r.error:
            print(f"{r.name:<14} failed: {r.error}")
            continue
        low, high = r.quality_range or (0.0, 0.0)
        print(
            f"{r.name:<14}{r.tokens_per_s:9.1f}{r.ttft_s * 1000:11.0f}"
            f"{r.memory_bytes / 2**20:11.0f}{r.disk_bytes / 2**20:9.0f}{r.load_s:7.2f}"
            f"  {r.primary:.3f} [{low:.3f}, {high:.3f}]"
        )
    fp32, q4 = by_name.get("fp32"), by_name.get("gguf-Q4_K_M")
    if fp32 and q4 and not (fp32.error or q4.error) and fp32.tokens_per_s:
        overlap = (
            len(q4.quality_range) == 2
            and len(fp32.quality_range) == 2
            and q4.quality_range[0] <= fp32.quality_range[1]
            and fp32.quality_range[0] <= q4.quality_range[1]
        )
        print(
            f"Q4_K_M / fp32 tokens/s: {q4.tokens_per_s / fp32.tokens_per_s:.1f}x (goal >= 5x); "
            f"ROUGE-L intervals {'overlap' if overlap else 'do not overlap'} "
            f"({args.examples} examples)"
        )


if __name__ == "__main__":
    main()
