"""DPO on the project's preferences: TRL's DPOTrainer with LoRA, run by the fine-tune job runner.

`create_dpo_run` writes an ordinary run folder (config with method "dpo", the pairs as TRL JSONL)
so the registry, the live view, stop/resume and evaluation treat it like any fine-tune;
`train_dpo` runs inside the worker process. Heavy imports stay inside the functions: the page
imports this module to launch runs.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from lifecycle.alignment.preferences import Preference, task_messages, to_trl_jsonl
from lifecycle.evaluation.datasets import Example, shipped_index
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import DataError, split
from lifecycle.finetune.runs import (
    Run,
    append_jsonl,
    read_status,
    run_folder,
    start_attempt,
    write_run,
    write_status,
)
from lifecycle.store import Store, now

METHOD = "dpo"
PAIRS_FILE = "preferences.jsonl"  # train pairs, TRL conversational prompt/chosen/rejected
VALIDATION_FILE = "preferences_validation.jsonl"  # held-out pairs: DPO's own reward accuracy
MIN_PAIRS = 8  # fewer pairs than this teach nothing but noise
DEFAULT_BETA = 0.1  # KL pull towards the base: higher stays closer (TRL's default)
# What TRL logs besides the loss: implicit rewards of chosen/rejected and how often chosen wins.
REWARD_KEYS = ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies")
LOGGED: tuple[str, ...] = ("loss", "eval_loss", "learning_rate", "grad_norm")
LOGGED += REWARD_KEYS + tuple(f"eval_{k}" for k in REWARD_KEYS)


def dpo_config(
    base_ref: str, task_id: str, beta: float = DEFAULT_BETA, **settings: Any
) -> FinetuneConfig:
    """A FinetuneConfig for DPO with LoRA; beta is kept in `extra`. Defaults fit a CPU demo."""
    defaults = dict(learning_rate=5e-5, epochs=2.0, batch_size=4, eval_every=5, save_every=5)
    extra = {**settings.pop("extra", {}), "beta": float(beta)}
    return FinetuneConfig(
        base_ref=base_ref,
        task_id=task_id,
        method=METHOD,
        extra=extra,
        **{**defaults, **settings},
    )


def beta_of(config: FinetuneConfig) -> float:
    """The run's DPO beta."""
    return float(config.extra.get("beta", DEFAULT_BETA))


def check_dpo(config: FinetuneConfig, pairs: int) -> None:
    """Refuse settings or data a DPO run cannot use, naming what to change."""
    replace(config, method="lora").check()  # DPO trains a LoRA adapter: the same limits apply
    if not 0 < beta_of(config) <= 10:
        raise DataError("Beta must be above 0 (about 0.1 is usual; higher stays closer).")
    if pairs < MIN_PAIRS:
        raise DataError(
            f"DPO needs at least {MIN_PAIRS} preferences that pick A or B; there are {pairs}. "
            f"Collect {MIN_PAIRS - pairs} more (or add the seed set)."
        )


def _with_messages(pref: Preference, task_id: str) -> Preference:
    """A preference whose chat is known (TRL renders it with the model's own template)."""
    if pref.messages:
        return pref
    return replace(pref, messages=tuple(task_messages(pref.task or task_id, pref.prompt)))


def create_dpo_run(
    store: Store, project_id: str, base_ref: str, prefs: list[Preference], config: FinetuneConfig
) -> Run:
    """Write a queued DPO run: pairs split into train/validation, config, status, record."""
    config = replace(config, base_ref=base_ref, method=METHOD)
    usable = [_with_messages(p, config.task_id) for p in prefs if p.usable]
    check_dpo(config, len(usable))
    train, validation = split(usable, config.val_share, config.seed)
    run_id = f"dpo-{now()[:10]}-{uuid.uuid4().hex[:6]}"
    folder = run_folder(run_id)
    folder.mkdir(parents=True)
    for name, rows in ((PAIRS_FILE, train), (VALIDATION_FILE, validation)):
        (folder / name).write_text(to_trl_jsonl(rows, conversational=True).text, encoding="utf-8")
    dataset = {
        "name": f"{len(usable)} preference pairs",
        "hash": _hash(usable),
        "task_id": config.task_id,
        # Evaluated on the task's shipped test split: the pairs' prompts never come from it.
        "set_id": next((d["id"] for d in shipped_index() if d["task"] == config.task_id), ""),
    }
    return write_run(
        store, project_id, run_id, config, _prompts(train), _prompts(validation), dataset
    )


def _prompts(prefs: list[Preference]) -> list[Example]:
    """The pairs' prompts as examples: the live view samples them, evaluation reads them."""
    return [Example(p.id, p.prompt, p.chosen) for p in prefs]


def _hash(prefs: list[Preference]) -> str:
    body = to_trl_jsonl(prefs, conversational=True).text
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def read_pairs(folder: Path, name: str = PAIRS_FILE) -> list[dict]:
    """The TRL rows a run trains (or validates) on, as written at launch."""
    path = Path(folder) / name
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def dpo_args(config: FinetuneConfig, folder: Path, cuda: bool, evaluate: bool) -> Any:
    """DPOConfig from the run's settings (the same knobs as a LoRA fine-tune, plus beta)."""
    from trl import DPOConfig

    from lifecycle.finetune.train import common_args

    settings = common_args(config, folder, cuda)
    settings["eval_strategy"] = "steps" if evaluate else "no"
    return DPOConfig(
        **settings,
        beta=beta_of(config),
        max_length=config.max_len,
        activation_checkpointing=False,  # small models on a CPU: recomputation only costs time
    )


def train_dpo(run: Run, callbacks: tuple = ()) -> str:
    """Train (or resume) a DPO run to the end or to a stop request; returns the final state."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOTrainer

    from lifecycle.finetune.lora import lora_config
    from lifecycle.finetune.progress import train_or_stop
    from lifecycle.finetune.train import save_final, trainable_counts
    from lifecycle.models.loader import LoadedModel, load_model

    config, folder = run.config, run.folder
    train_rows, val_rows = read_pairs(folder), read_pairs(folder, VALIDATION_FILE)
    check_dpo(config, len(train_rows) + len(val_rows))
    lm = load_model(config.base_ref)
    if lm.is_seq2seq:
        raise DataError("DPO here supports decoder-only (causal) models, not seq2seq.")
    model = lm.model
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()  # aligning a tuned run: start from its merged weights
    set_seed(config.seed)
    progress = dpo_progress(folder, lm, config)
    trainer = DPOTrainer(
        model=model,
        args=dpo_args(config, folder, lm.device == "cuda", bool(val_rows)),
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(val_rows) if val_rows else None,
        processing_class=lm.tokenizer,
        peft_config=lora_config(model, config),  # the frozen base is the reference model
        callbacks=[progress, *callbacks],
    )
    # Samples come from the policy being trained (the LoRA-wrapped model), not the bare base.
    progress.lm = LoadedModel(**{**lm.__dict__, "model": trainer.model})
    status = read_status(folder)
    status.trainable, status.total_params = trainable_counts(trainer.model)
    write_status(folder, status)
    train_or_stop(trainer, start_attempt(folder), progress)
    if progress.stopped:
        return "stopped"
    save_final(trainer.model, lm, config, folder / "final")
    return "completed"


def dpo_progress(folder: Path, lm: Any, config: FinetuneConfig) -> Any:
    """The fine-tune Progress callback, logging DPO's rewards beside the loss."""
    from lifecycle.finetune.progress import Progress

    class DpoProgress(Progress):
        def on_log(self, args, state, control, logs=None, **kwargs):
            """Append the losses and implicit rewards of this step."""
            logs = logs or {}
            row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
            row["time"] = now(True)
            row.update({k: float(logs[k]) for k in LOGGED if k in logs})
            if len(row) > 3:
                append_jsonl(self.folder / "metrics.jsonl", row)
                self._write(state, logs)

    return DpoProgress(folder, lm, config)
