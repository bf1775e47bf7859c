"""The training itself: transformers.Trainer (+ peft for LoRA) on a run folder's data.

Runs inside the worker process; its Progress callback (progress.py) writes everything the page
shows into the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import IGNORE, DataError, Features, format_example, task_spec
from lifecycle.finetune.distributed import (
    barrier,
    compare_ranks,
    rank,
    weights_checksum,
    world_size,
    write_rank_report,
)
from lifecycle.finetune.lora import lora_config
from lifecycle.finetune.progress import Progress, point_adapter_at_base, train_or_stop
from lifecycle.finetune.runs import (
    Run,
    read_examples,
    read_status,
    resume_point,
    start_attempt,
    write_status,
)
from lifecycle.models.loader import LoadedModel, load_model


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
        save_total_limit=config.keep_checkpoints or None,
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
        processing_class=lm.tokenizer,  # saved in every checkpoint: each one loads on its own
        callbacks=[progress, *callbacks],
    )
    if not val_rows:
        trainer.args.eval_strategy = "no"
    checkpoint = start_attempt(folder) if rank() == 0 else resume_point(folder, status)
    train_or_stop(trainer, checkpoint, progress)
    settle_ranks(folder, model, trainer.state.global_step)
    if progress.stopped:
        return "stopped"
    if rank() == 0:
        set_phase(folder, "saving")
        save_final(model, lm, config, folder / "final")
    return "completed"


def set_phase(folder: Path, phase: str) -> None:
    """Say what the worker does now (the page shows it instead of a stale time left)."""
    status = read_status(folder)
    status.phase = phase
    write_status(folder, status)


def save_final(model: Any, lm: LoadedModel, config: FinetuneConfig, target: Path) -> None:
    """The trained adapter or full model as safetensors, loadable by the app's loader."""
    model.save_pretrained(str(target), safe_serialization=True)
    lm.tokenizer.save_pretrained(str(target))
    point_adapter_at_base(target, config.base_ref)
