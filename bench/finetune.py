"""Fine-tune speed: our job's training step vs a plain transformers.Trainer, same run.

Both train LoRA (r 16, alpha 32, q/k/v/o) on the embedded SmolLM2 over the same tokenised
dialogue-summary examples (batch 8, answer-only labels, the same seed); a timing callback takes
every optimiser step's wall time in both. Prints the median seconds a step, the ratio ours/plain
(goal <= 1.05), what our sample generations add per evaluation, and LoRA vs full steps/s.
Run: .venv/bin/python -m bench.finetune [--steps 8] [--bf16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LIFECYCLE_HOME", tempfile.mkdtemp(prefix="bench-ft-"))

from transformers import Trainer, TrainerCallback

from lifecycle.evaluation.datasets import load_shipped
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.runs import create_run, read_status
from lifecycle.finetune.train import (
    Collator,
    features,
    prepare_model,
    train,
    training_args,
)
from lifecycle.models import EMBEDDED, load_model
from lifecycle.models.sources import convert_embedded
from lifecycle.store import Store


class StepTimer(TrainerCallback):
    """Wall time of every optimiser step (the same instrument for both trainers)."""

    def __init__(self):
        self.times: list[float] = []
        self.start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self.start)


def median_after_first(times: list[float]) -> float:
    """Median step time, leaving out the first step (allocator and thread-pool warm-up)."""
    return statistics.median(times[1:] if len(times) > 1 else times)


def ours(store: Store, project: str, config: FinetuneConfig, examples) -> tuple[float, float]:
    """Seconds a step of our job, and seconds of one round of sample generations."""
    run = create_run(store, project, config, examples[:-3], examples[-3:], {"name": "bench"})
    timer = StepTimer()
    train(run, callbacks=(timer,))
    print("our step times", [round(t, 2) for t in timer.times])
    status = read_status(run.folder)
    return median_after_first(timer.times), status.sample_seconds


def plain(config: FinetuneConfig, folder: Path) -> float:
    """Seconds a step of a plain Trainer on the same model, data and settings."""
    lm = load_model(config.base_ref)
    model = prepare_model(lm, config)
    model.train()
    timer = StepTimer()
    args = training_args(config, folder, cuda=False)
    args.eval_strategy, args.save_strategy = "no", "no"
    pad = lm.tokenizer.pad_token_id
    Trainer(
        model=model,
        args=args,
        train_dataset=features(lm, config, folder, "train"),
        data_collator=Collator(pad),
        callbacks=[timer],
    ).train()
    print("plain step times", [round(t, 2) for t in timer.times])
    return median_after_first(timer.times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    opts = parser.parse_args()
    convert_embedded()
    store = Store(Path(os.environ["LIFECYCLE_HOME"]) / "lifecycle.sqlite")
    project = store.create_project("bench").id
    examples = list(load_shipped("dialogue_summaries", "train").examples[:64])
    base = dict(base_ref=EMBEDDED, max_steps=opts.steps, bf16=opts.bf16, samples=0)
    # No evaluation or checkpoint inside the timed steps: both trainers do the same work.
    lora = FinetuneConfig(**base, eval_every=10_000, save_every=10_000)
    # Alternate the two, twice, so drift in the machine's speed hits both alike.
    ours_times, plain_times = [], []
    for _ in range(opts.rounds):
        ours_times.append(ours(store, project, lora, examples)[0])
        run_folder = next((Path(os.environ["LIFECYCLE_HOME"]) / "runs").iterdir())
        plain_times.append(plain(lora, run_folder))
    print(
        "rounds (s/step) ours",
        [round(t, 2) for t in ours_times],
        "plain",
        [round(t, 2) for t in plain_times],
    )
    ours_lora, plain_lora = statistics.median(ours_times), statistics.median(plain_times)
    sampled = FinetuneConfig(**{**base, "samples": 3, "max_steps": 1}, eval_every=1)
    _, sample_s = ours(store, project, sampled, examples)
    full = FinetuneConfig(**{**base, "method": "full", "learning_rate": 5e-5})
    ours_full, _ = ours(store, project, full, examples)
    print(f"LoRA step, plain Trainer : {plain_lora:6.2f} s")
    print(f"LoRA step, our job       : {ours_lora:6.2f} s   ratio {ours_lora / plain_lora:.3f}")
    print(f"Sample generations       : {sample_s:6.2f} s per evaluation (3 inputs, 64 tokens)")
    print(f"Full fine-tune step      : {ours_full:6.2f} s")
    print(
        f"Steps/s LoRA {1 / ours_lora:.3f} vs full {1 / ours_full:.3f} "
        f"(LoRA x{ours_full / ours_lora:.2f})"
    )


if __name__ == "__main__":
    main()
