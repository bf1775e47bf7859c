"""Merge a LoRA run into its base and write a standalone model folder (safetensors)."""

from __future__ import annotations

import shutil
from pathlib import Path

from lifecycle.finetune.config import ADAPTER_METHODS
from lifecycle.finetune.runs import Run
from lifecycle.models.sources import ModelLoadError


class MergeError(RuntimeError):
    """A merge that cannot be done; the message says why."""


def merged_folder(run: Run) -> Path:
    """Where a run's merged model goes."""
    return run.folder / "merged"


def merge_run(run: Run, target: Path | None = None) -> Path:
    """Base + adapter folded into plain weights: loads anywhere, no peft needed, no slowdown."""
    from peft import PeftModel

    from lifecycle.models.loader import load_model

    if run.status.state != "completed":
        raise MergeError("Only a completed run can be merged.")
    if run.config.method not in ADAPTER_METHODS:
        return run.final_folder  # a full fine-tune is already a standalone model
    target = target or merged_folder(run)
    try:
        lm = load_model(run.ref)
    except ModelLoadError as err:
        raise MergeError(str(err)) from err
    if not isinstance(lm.model, PeftModel):
        raise MergeError("This run's folder holds no LoRA adapter.")
    merged = lm.model.merge_and_unload()
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        merged.save_pretrained(str(tmp), safe_serialization=True)
        lm.tokenizer.save_pretrained(str(tmp))
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)  # a finished folder or none: never half a model
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise MergeError(f"Could not write {target} ({err.strerror or err}).") from err
    return target
