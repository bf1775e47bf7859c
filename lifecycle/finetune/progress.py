"""What a training process reports while it runs: progress, timings, losses, samples, stops.

Runs inside the worker process. The page shows only what this writes into the run folder:
status.json (progress, phase, timings), metrics.jsonl (losses, the validation metric) and
samples.jsonl (generations), so every figure on the page is one that was measured.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

# Only the worker process imports this module, so importing transformers here costs the app nothing.
from transformers import TrainerCallback

from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import task_spec
from lifecycle.finetune.distributed import any_rank, rank, world_size
from lifecycle.finetune.runs import (
    STOP_AT_FILE,
    STOP_FILE,
    append_jsonl,
    read_examples,
    read_status,
    stop_requested,
    write_status,
)
from lifecycle.models.generation import GenParams, generate
from lifecycle.models.loader import LoadedModel
from lifecycle.prompting import build_messages
from lifecycle.store import now


class StopRequested(Exception):
    """Stop was pressed before the first step: there is nothing to save, so training ends."""


def train_or_stop(trainer: Any, checkpoint: Path | None, progress: Progress) -> None:
    """trainer.train from the checkpoint; a stop before the first step ends it early."""
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except StopRequested:
        progress.stopped = True


def task_metric(task_id: str) -> tuple[str, str]:
    """(metric module, score key) that measures the task, e.g. ("rouge", "rougeL")."""
    from lifecycle.evaluation.metrics import METRICS
    from lifecycle.evaluation.runs import primary_key
    from lifecycle.tasks import load_tasks

    task = load_tasks().get(task_id)
    named = [m.name for m in task.metrics if m.name in METRICS] if task else []
    named = named or ["rouge"]
    key = primary_key(tuple(named))
    return next(n for n in named if key in METRICS[n].keys), key


def sample_outputs(lm: LoadedModel, config: FinetuneConfig, text: str) -> str:
    """A greedy generation for one validation input (the training RNG is left untouched)."""
    import torch

    state = torch.get_rng_state()
    was_training = lm.model.training
    lm.model.eval()
    try:
        params = GenParams(max_new_tokens=config.sample_tokens)
        messages = build_messages(task_spec(config.task_id), {"input": text})
        return generate(lm, messages, params).text
    finally:
        lm.model.train(was_training)
        torch.set_rng_state(state)


class Progress(TrainerCallback):
    """Writes progress, timings, losses and samples into the run folder; honours stop requests.

    Under torchrun every rank runs it, but only rank 0 writes; all ranks stop at the same step.
    Seconds a step count the optimiser steps only: evaluations are timed on their own, so the
    time left is steps left at the step pace plus evaluations left at the evaluation pace.
    """

    def __init__(self, folder: Path, lm: LoadedModel, config: FinetuneConfig):
        self.folder, self.lm, self.config = folder, lm, config
        self.main = rank() == 0
        self.examples = read_examples(folder, "validation")[: config.samples]
        self.stopped = False
        status = read_status(folder)
        self.base = {k: getattr(status, k) for k in ("train_seconds", "eval_seconds", "evals")}
        self.base["sample_seconds"] = status.sample_seconds
        self.spent = dict.fromkeys(self.base, 0.0)
        self.step_started = self.eval_started = 0.0
        self.steps_timed = 0

    def on_train_begin(self, args, state, control, **kwargs):
        """Samples of the untouched model (step 0), so improvement is visible."""
        if not self.main:
            return
        status = read_status(self.folder)
        status.total_steps, status.attempts = state.max_steps, status.attempts + 1
        status.processes = world_size()
        write_status(self.folder, status)
        if state.global_step == 0 and self.examples:
            start = time.perf_counter()
            self._samples(state, 0)
            self.spent["sample_seconds"] += time.perf_counter() - start
        self._write(state, phase="training")

    def on_step_begin(self, args, state, control, **kwargs):
        """Start the clock of one optimiser step (all its accumulated micro-batches)."""
        self.step_started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        """Progress after each optimiser step; a stop request saves a checkpoint and ends."""
        self.spent["train_seconds"] += time.perf_counter() - self.step_started
        self.steps_timed += 1
        # A rank that saw the stop file alone would leave the others waiting in the next step.
        if any_rank(stop_requested(self.folder, state.global_step)):
            control.should_save = True
            control.should_training_stop = True
            self.stopped = True
            if self.main:  # done: a resumed attempt must not stop there again
                (self.folder / STOP_AT_FILE).unlink(missing_ok=True)
        self.eval_started = time.perf_counter()
        if self.main:
            phase = "training"
            if control.should_evaluate:
                phase = "evaluating"
            elif control.should_save:
                phase = "saving"
            self._write(state, phase=phase)

    def on_log(self, args, state, control, logs=None, **kwargs):
        """Append the train or validation loss of this step."""
        if not self.main:
            return
        logs = logs or {}
        row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), "time": now(True)}
        for key in ("loss", "eval_loss", "learning_rate", "grad_norm"):
            if key in logs:
                row[key] = float(logs[key])
        if len(row) > 3:
            append_jsonl(self.folder / "metrics.jsonl", row)
            self._write(state, logs)

    def on_evaluate(self, args, state, control, **kwargs):
        """Sample generations and the task metric on them at every evaluation."""
        if self.main:
            if self.examples and not self.stopped:
                self._samples(state, state.global_step)
            self.spent["eval_seconds"] += time.perf_counter() - self.eval_started
            self.spent["evals"] += 1
            self._write(state, phase="saving" if control.should_save else "training")

    def on_save(self, args, state, control, **kwargs):
        """A checkpoint names its base by the app's reference, as the final adapter does."""
        if self.main:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            point_adapter_at_base(folder, self.config.base_ref)
            self._write(state, phase="training")

    def _samples(self, state, step: int) -> None:
        """Generate on the fixed inputs, then score them with the task's metric."""
        outputs = []
        for example in self.examples:
            if (self.folder / STOP_FILE).exists():  # checked between samples: each takes a while
                if step == 0 and world_size() == 1:
                    raise StopRequested  # nothing trained yet: stop without a first step
                return  # the ranks stop together at the end of the next step
            self._write(state, phase="samples")
            text = sample_outputs(self.lm, self.config, example.input)
            append_jsonl(
                self.folder / "samples.jsonl", {"step": step, "id": example.id, "output": text}
            )
            outputs.append(text)
        self._metric(state, step, outputs)

    def _metric(self, state, step: int, outputs: list[str]) -> None:
        """The task metric (e.g. ROUGE-L) of the samples against their references."""
        from lifecycle.evaluation.metrics import aggregate

        name, key = task_metric(self.config.task_id)
        refs = [e.output for e in self.examples[: len(outputs)]]
        try:
            value = aggregate(name, outputs, refs)[key]
        except Exception as err:  # a metric that cannot load must not end the training
            print(f"Validation metric {name} skipped: {err}", flush=True)
            return
        row = {"step": step, "epoch": round(state.epoch or 0.0, 4), "time": now(True)}
        row.update(val_metric=key, val_score=round(float(value), 4), val_examples=len(outputs))
        append_jsonl(self.folder / "metrics.jsonl", row)

    def _write(self, state, logs: dict | None = None, phase: str = "") -> None:
        status = read_status(self.folder)
        status.step, status.epoch = state.global_step, round(state.epoch or 0.0, 4)
        status.total_steps = state.max_steps
        for key, base in self.base.items():
            setattr(status, key, type(base)(base + self.spent[key]))
        if self.steps_timed:
            status.step_seconds = self.spent["train_seconds"] / self.steps_timed
        if logs and "loss" in logs:
            status.train_loss = float(logs["loss"])
        if logs and "eval_loss" in logs:
            status.eval_loss = float(logs["eval_loss"])
        status.phase = phase or status.phase
        status.updated_at = now()
        if self.stopped and status.state == "running":
            status.state = "stopping"
        write_status(self.folder, status)


def point_adapter_at_base(folder: Path, base_ref: str) -> None:
    """Name the base by its app reference, not a path: the data folder may move."""
    adapter = folder / "adapter_config.json"
    if adapter.is_file():
        data = json.loads(adapter.read_text())
        data["base_model_name_or_path"] = base_ref
        adapter.write_text(json.dumps(data, indent=2))
