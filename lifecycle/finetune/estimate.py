"""Before launch: trainable parameters and the memory a run needs, from the loaded model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.finetune.config import ADAPTER_METHODS, FinetuneConfig
from lifecycle.finetune.lora import lora_targets
from lifecycle.selection.catalog import custom_model
from lifecycle.selection.memory import (
    ADAM_BYTES,
    GIB,
    Device,
    Workload,
    activations_gib,
    fit_verdict,
    machine_ram_gib,
)


@dataclass(frozen=True)
class TrainEstimate:
    """What a run will train and hold in memory (the model selection estimator's formulas)."""

    trainable: int
    total: int
    targets: tuple[str, ...]  # LoRA target modules actually matched (empty for full)
    memory_gib: float
    ram_gib: float
    verdict: str  # fits | tight | no (against this machine's RAM)

    @property
    def share(self) -> float:
        """Trainable share of all parameters."""
        return self.trainable / self.total if self.total else 0.0


def lora_trainable(model: Any, targets: tuple[str, ...], rank: int) -> tuple[int, tuple[str, ...]]:
    """Adapter parameters r x (in + out) over every matching layer, and the names matched."""
    total, matched = 0, set()
    for name, module in model.named_modules():
        short = name.rsplit(".", 1)[-1]
        weight = getattr(module, "weight", None)
        if short in targets and weight is not None and weight.dim() == 2:
            total += rank * (weight.shape[0] + weight.shape[1])
            matched.add(short)
    return total, tuple(sorted(matched))


def estimate_run(model: Any, config: FinetuneConfig, bytes_per_param: float = 4.0) -> TrainEstimate:
    """Trainable parameters and memory for these settings (fp32 on CPU unless told)."""
    total = sum(p.numel() for p in model.parameters())
    if config.method in ADAPTER_METHODS:
        trainable, matched = lora_trainable(model, lora_targets(model, config), config.lora_r)
    else:
        trainable, matched = total, ()
    cfg = model.config
    spec = custom_model(
        total,
        hidden_size=getattr(cfg, "hidden_size", 0) or getattr(cfg, "n_embd", 0),
        heads=getattr(cfg, "num_attention_heads", 0) or getattr(cfg, "n_head", 0),
        layers=getattr(cfg, "num_hidden_layers", 0) or getattr(cfg, "n_layer", 0),
    )
    work = Workload(context=config.max_len, batch=config.batch_size, gradient_checkpointing=False)
    precision = "fp32" if bytes_per_param >= 4 else "fp16/bf16"
    per_process = (
        total * bytes_per_param / GIB
        + trainable * ADAM_BYTES / GIB
        + activations_gib(spec, work, precision)
    )
    memory = per_process * config.processes  # every rank holds its own model, optimiser, batch
    ram = machine_ram_gib()
    return TrainEstimate(
        trainable, total, matched, memory, ram, fit_verdict(memory, Device("RAM", ram))
    )
