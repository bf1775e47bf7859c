"""The LoRA adapter settings, written once for fine-tuning, DPO and the pre-launch estimate."""

from __future__ import annotations

from typing import Any

from lifecycle.finetune.config import FAN_IN_FAN_OUT, FinetuneConfig, default_targets


def linear_names(model: Any) -> list[str]:
    """Names of the model's Linear layers (LoRA candidates)."""
    import torch

    return [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


def lora_targets(model: Any, config: FinetuneConfig) -> tuple[str, ...]:
    """Target module names for this model (the user's, or the architecture default)."""
    if config.target_modules:
        return config.target_modules
    model_type = getattr(model.config, "model_type", "")
    return default_targets(model_type, linear_names(model))


def lora_config(model: Any, config: FinetuneConfig) -> Any:
    """peft's LoraConfig for these settings on this model."""
    from peft import LoraConfig

    model_type = getattr(model.config, "model_type", "")
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(lora_targets(model, config)),
        fan_in_fan_out=model_type in FAN_IN_FAN_OUT,  # GPT-2's Conv1D stores weights transposed
        task_type="CAUSAL_LM",
    )
