"""The training itself: transformers.Trainer (+ peft for LoRA) on a run folder's data.

Runs inside the worker process. Everything the page shows comes from what this writes into the
run folder: status.json (progress), metrics.jsonl (losses), samples.jsonl (generations).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

# Only the worker process imports this module, so importing transformers here costs the app nothing.
from transformers import TrainerCallback

from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import IGNORE, DataError, Features, format_example, task_spec
from lifecycle.finetune.distributed import (
    any_rank,
    barrier,
    compare_ranks,
    rank,
    weights_checksum,
    world_size,
    write_rank_report,
)
from lifecycle.finetune.lora import lora_config
from lifecycle.finetune.runs import (
    Run,
    append_jsonl,
    latest_checkpoint,
    read_examples,
    read_status,
    write_status,
)
from lifecycle.models.generation import GenParams, generate
from lifecycle.models.loader import LoadedModel, load_model
from lifecycle.prompting import build_messages
from lifecycle.store import now

STOP_FILE = "stop"


def settle_ranks(folder: Path, model: Any, step: int) -> None:
    """Each rank reports its weights; rank 0 compares them into the status and the log."""
    if world_size() == 1:
        return
    write_rank_report(folder, step, weights_checksum(model))
    barrier()  # every report is on disk before rank 0 reads them
    if rank() != 0:
        return
    status = read_status(folder)
    status.ranks_equal, status.ranks_note = compare_ranks(folder, world_size())
    write_status(folder, status)
    print(status.ranks_note, flush=True)


def prepare_model(lm: LoadedModel, config: FinetuneConfig) -> Any:
    """The model to train: LoRA adapters on the targets, or every weight for full tuning."""
    model = lm.model
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()  # tuning a tuned run: start from its merged weights
    if config.method == "full":
        model.requires_grad_(True)
        return model
    from peft import get_peft_model

    try:
        return get_peft_model(model, lora_config(model, config))
    except ValueError as err:  # peft names the module it could not find
        raise DataError(f"LoRA cannot wrap these target modules: {err}") from err


def trainable_counts(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


class Collator:
    """Right-pads a batch; padded labels are ignored, the answer's end token is not."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        width = max(len(b["input_ids"]) for b in batch)
        ids, labels, mask = [], [], []
        for b in batch:
            gap = width - len(b["input_ids"])
            ids.append(b["input_ids"] + [self.pad_id] * gap)
            labels.append(b["labels"] + [IGNORE] * gap)
            mask.append([1] * len(b["input_ids"]) + [0] * gap)
        return {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
        }


def features(lm: LoadedModel, config: FinetuneConfig, folder: Path, split: str) -> list[dict]:
    """Tokenised examples of a split (over-long rows were dropped by the pre-launch report)."""
    spec = task_spec(config.task_id)
    rows = [format_example(lm.tokenizer, spec, e) for e in read_examples(folder, split)]
    return [_as_dict(f) for f in rows if f.length <= config.max_len]


def _as_dict(f: Features) -> dict:
    return {"input_ids": f.input_ids, "labels": f.labels}


def common_args(config: FinetuneConfig, folder: Path, cuda: bool) -> dict:
    """The trainer settings every job shares (fine-tune and DPO), from the run's config."""
    return dict(
        output_dir=str(folder / "checkpoints"),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float below 1 is a ratio
        lr_scheduler_type="linear",
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=config.eval_every,
        save_strategy="steps",
        save_steps=config.save_every,
        save_total_limit=2,  # the latest two resume points; older ones only cost disk
        seed=config.seed,
        data_seed=config.seed,
        bf16=config.bf16,
        use_cpu=not cuda,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=False,
    )


def training_args(config: FinetuneConfig, folder: Path, cuda: bool) -> Any:
    """TrainingArguments from the run's settings."""
    from transformers import TrainingArguments

    return TrainingArguments(
        **common_args(config, folder, cuda),
        remove_unused_columns=False,
        train_sampling_strategy="group_by_length",  # similar lengths per batch: less padding
        # Every trainable weight takes part in a causal LM's forward pass: skip DDP's extra search.
        ddp_find_unused_parameters=False,
    )


def train(run: Run, callbacks: tuple = ()) -> str:
    """Train (or resume) a run to the end or to a stop request; returns the final state."""
    from transformers import Trainer

    config, folder = run.config, run.folder
    lm = load_model(config.base_ref)
    if lm.is_seq2seq:
        raise DataError("Fine-tuning here supports decoder-only (causal) models, not seq2seq.")
    train_rows = features(lm, config, folder, "train")
    val_rows = features(lm, config, folder, "validation")
    if not train_rows:
        raise DataError("No training example fits the sequence length.")
    from transformers import set_seed

    set_seed(config.seed)  # LoRA's A matrices are drawn at random: the seed alone decides them
    model = prepare_model(lm, config)
    model.train()
    status = read_status(folder)
    if rank() == 0:  # other ranks only train: the run folder has one writer
        status.trainable, status.total_params = trainable_counts(model)
        write_status(folder, status)
    pad = lm.tokenizer.pad_token_id
    pad = pad if pad is not None else lm.tokenizer.eos_token_id or 0
    progress = Progress(folder, LoadedModel(**{**lm.__dict__, "model": model}), config)
    trainer = Trainer(
        model=model,
        args=training_args(config, folder, lm.device == "cuda"),
        train_dataset=train_rows,
        eval_dataset=val_rows or None,
        data_collator=Collator(pad),
        callbacks=[progress, *callbacks],
    )
    if not val_rows:
        trainer.args.eval_strategy = "no"
    checkpoint = latest_checkpoint(folder) if status.resume else None
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    settle_ranks(folder, model, trainer.state.global_step)
    if progress.stopped:
        return "stopped"
    if rank() == 0:
        save_final(model, lm, config, folder / "final")
    return "completed"


def save_final(model: Any, lm: LoadedModel, config: FinetuneConfig, target: Path) -> None:
    """The trained adapter or full model as safetensors, loadable by the app's loader."""
    model.save_pretrained(str(target), safe_serialization=True)
    lm.tokenizer.save_pretrained(str(target))
    adapter = target / "adapter_config.json"
    if adapter.is_file():
        # Point at the base by its app reference, not a path: the data folder may move.
        data = json.loads(adapter.read_text())
        data["base_model_name_or_path"] = config.base_ref
        adapter.write_text(json.dumps(data, indent=2))


def sample_outputs(lm: LoadedModel, config: FinetuneConfig, inputs: list[tuple[str, str]]) -> list:
    """Greedy generations on fixed validation inputs (the training RNG is left untouched)."""
    import torch

    spec = task_spec(config.task_id)
    state = torch.get_rng_state()
    was_training = lm.model.training
    lm.model.eval()
    try:
        params = GenParams(max_new_tokens=config.sample_tokens)
        return [
            (eid, generate(lm, build_messages(spec, {"input": text}), params).text)
            for eid, text in inputs
        ]
    finally:
        lm.model.train(was_training)
        torch.set_rng_state(state)


class Progress(TrainerCallback):
    """Writes progress, losses and samples into the run folder; honours stop requests.

    Under torchrun every rank runs it, but only rank 0 writes; all ranks stop at the same step.
    """

    def __init__(self, folder: Path, lm: LoadedModel, config: FinetuneConfig):
        self.folder, self.lm, self.config = folder, lm, config
        self.main = rank() == 0
        val = read_examples(folder, "validation")[: config.samples]
        self.inputs = [(e.id, e.input) for e in val]
        self.stopped = False
        self.sample_seconds = 0.0
        self.clock = time.perf_counter()
        self.steps_this_attempt = 0
        status = read_status(folder)
        self.base_train_seconds = status.train_seconds
        self.base_sample_seconds = status.sample_seconds

    def on_train_begin(self, args, state, control, **kwargs):
        """Samples of the untouched model (step 0), so improvement is visible."""
        if not self.main:
            return
        status = read_status(self.folder)
        status.total_steps, status.attempts = state.max_steps, status.attempts + 1
        status.processes = world_size()
        write_status(self.folder, status)
        if state.global_step == 0 and self.inputs:
            self._samples(0)
        self.clock = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        """Progress after each optimiser step; a stop request saves a checkpoint and ends."""
        self.steps_this_attempt += 1
        # A rank that saw the stop file alone would leave the others waiting in the next step.
        if any_rank((self.folder / STOP_FILE).exists()):
            control.should_save = True
            control.should_training_stop = True
            self.stopped = True
        if self.main:
            self._write(state)

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
        """Sample generations at every evaluation."""
        if self.main and self.inputs:
            self._samples(state.global_step)

    def _samples(self, step: int) -> None:
        start = time.perf_counter()
        for eid, text in sample_outputs(self.lm, self.config, self.inputs):
            append_jsonl(self.folder / "samples.jsonl", {"step": step, "id": eid, "output": text})
        self.sample_seconds += time.perf_counter() - start

    def _write(self, state, logs: dict | None = None) -> None:
        status = read_status(self.folder)
        elapsed = time.perf_counter() - self.clock
        status.step, status.epoch = state.global_step, round(state.epoch or 0.0, 4)
        status.total_steps = state.max_steps
        status.train_seconds = self.base_train_seconds + max(0.0, elapsed - self.sample_seconds)
        status.sample_seconds = self.base_sample_seconds + self.sample_seconds
        if logs and "loss" in logs:
            status.train_loss = float(logs["loss"])
        if logs and "eval_loss" in logs:
            status.eval_loss = float(logs["eval_loss"])
        status.updated_at = now()
        if self.stopped and status.state == "running":
            status.state = "stopping"
        write_status(self.folder, status)
