"""Memory estimates for inference and training, per precision, with fit verdicts per device."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from lifecycle.selection.catalog import ModelSpec

GIB = 2**30
PRECISIONS = {"fp32": 4.0, "fp16/bf16": 2.0, "int8": 1.0, "int4": 0.5}  # bytes per parameter
QLORA_BYTES = 4.127 / 8  # NF4 weights plus double-quantized block scales (QLoRA paper, 0.127 bit)
INFERENCE_OVERHEAD = 0.20  # buffers and framework: ~20 % over weights (EleutherAI Transformer Math)
ADAM_BYTES = (
    16  # per trained parameter: weights + gradients + two fp32 Adam moments (+ master copy)
)
LORA_TARGETS = 4  # q, k, v and o projections in every attention block


class EstimateError(ValueError):
    """An impossible estimator input; the message says which and why."""


@dataclass(frozen=True)
class Workload:
    """What the model is asked to hold: context length, batch, LoRA rank, checkpointing."""

    context: int = 2048  # tokens per sequence
    batch: int = 1  # sequences processed together
    lora_rank: int = 16
    gradient_checkpointing: bool = True  # recompute activations in backward: far less memory
    # what the page's inputs accept; saved values outside are clamped when read back
    LIMITS: ClassVar[dict] = {"context": (0, 2_000_000), "batch": (0, 4096), "lora_rank": (0, 1024)}

    def check(self, model: ModelSpec) -> None:
        """Refuse inputs no real run could have."""
        if model.params <= 0:
            raise EstimateError("The model needs a positive number of parameters.")
        if self.context < 1:
            raise EstimateError("The context must hold at least one token.")
        if self.batch < 1:
            raise EstimateError("The batch must hold at least one sequence.")
        if self.lora_rank < 1:
            raise EstimateError("The LoRA rank must be at least 1.")
        if model.layers < 1 or model.hidden_size < 1 or model.heads < 1:
            raise EstimateError("Layers, hidden size and heads must be positive.")


@dataclass(frozen=True)
class MemoryRow:
    """All estimates (GiB) for one precision."""

    precision: str
    weights: float
    kv_cache: float
    inference: float
    full_finetune: float | None  # None: nobody trains all weights in int8/int4
    lora: float  # at int4 this is QLoRA
    lora_trainable: int


def weights_gib(params: int, precision: str) -> float:
    """Weights alone: parameters x bytes per parameter."""
    return params * PRECISIONS[precision] / GIB


def kv_cache_gib(model: ModelSpec, context: int, batch: int, precision: str) -> float:
    """Keys and values of every decoder layer for the whole context (fp16 unless fp32)."""
    if model.architecture == "encoder-only":
        return 0.0  # no generation, nothing cached between steps
    kv_bytes = 4 if precision == "fp32" else 2  # weight-only quantization keeps a 16-bit cache
    per_token = 2 * model.layers * model.kv_heads * model.attention_head_dim * kv_bytes
    return per_token * context * batch / GIB


def activations_gib(model: ModelSpec, work: Workload, precision: str) -> float:
    """Activations kept for backward (Korthikanti et al. 2022, no sequence parallelism)."""
    s, b, h, a = work.context, work.batch, model.hidden_size, model.heads
    layers = model.layers + model.encoder_layers
    scale = 2.0 if precision == "fp32" else 1.0  # the formula counts 16-bit activations
    per_layer = s * b * h * (34 + 5 * a * s / h) * scale
    if work.gradient_checkpointing:
        return (layers * s * b * h * 2 * scale + per_layer) / GIB  # layer inputs + one layer
    return layers * per_layer / GIB


def lora_trainable(model: ModelSpec, rank: int) -> int:
    """Parameters of rank-r adapters on q, k, v and o of every attention block."""
    h, q_out = model.hidden_size, model.heads * model.attention_head_dim
    kv_out = model.kv_heads * model.attention_head_dim
    per_layer = rank * ((h + q_out) + 2 * (h + kv_out) + (q_out + h))
    return per_layer * (model.layers + model.encoder_layers)


def estimate(model: ModelSpec, work: Workload) -> list[MemoryRow]:
    """One row of estimates per precision."""
    work.check(model)
    trainable = lora_trainable(model, work.lora_rank)
    rows = []
    for precision in PRECISIONS:
        weights = weights_gib(model.params, precision)
        kv = kv_cache_gib(model, work.context, work.batch, precision)
        act = activations_gib(model, work, "fp16/bf16" if precision != "fp32" else "fp32")
        full = model.params * ADAM_BYTES / GIB + act if PRECISIONS[precision] >= 2 else None
        base = model.params * QLORA_BYTES / GIB if precision == "int4" else weights
        lora = base + trainable * ADAM_BYTES / GIB + act
        rows.append(
            MemoryRow(
                precision,
                weights,
                kv,
                weights * (1 + INFERENCE_OVERHEAD) + kv,
                full,
                lora,
                trainable,
            )
        )
    return rows


def exactness(model: ModelSpec) -> dict[str, tuple[str, str]]:
    """Which figures are exact for this model and which are estimates: {figure: (kind, why)}."""
    counted = {
        "catalogue": "the published parameter count",
        "config": "the parameter count of the model built from its config",
        "size": "the size you entered",
    }[model.source]
    shape = model.shape_exact and model.architecture != "encoder-decoder"
    if model.architecture == "encoder-only":
        kv = ("exact", "none: an encoder reads the whole input at once and caches nothing")
    elif shape:
        kv = ("exact", "2 x layers x KV heads x head size x 2 bytes per token, from the config")
    elif model.shape_exact:
        kv = ("estimate", "decoder self-attention only; cross-attention adds the input's keys")
    else:
        kv = ("estimate", "layers and heads guessed from the size, as full attention")
    return {
        "Weights": ("exact", f"parameters x bytes per parameter, from {counted}"),
        "KV cache": kv,
        "Inference": ("estimate", "weights + KV cache + ~20 % for buffers and the framework"),
        "Full fine-tune (Adam)": (
            "estimate",
            "16 bytes per parameter exact; activations estimated",
        ),
        "LoRA trainable": ("exact" if shape else "estimate", "adapters on q, k, v and o"),
        "LoRA (QLoRA at int4)": ("estimate", "frozen weights + adapters with Adam + activations"),
    }


@dataclass(frozen=True)
class Device:
    """Somewhere a model can run, with its memory in GiB."""

    name: str
    memory_gib: float


GPUS_GB = {"T4": 16, "L4": 24, "A10": 24, "A100 40GB": 40, "A100 80GB": 80, "H100 80GB": 80}


def machine_ram_gib() -> float:
    """Total RAM of this machine."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return 0.0


def devices() -> list[Device]:
    """The GPUs the verdict covers (marketed GB as GiB) and this machine's CPU RAM."""
    gpus = [Device(name, gb * 1e9 / GIB) for name, gb in GPUS_GB.items()]
    return gpus + [Device("this CPU (RAM)", machine_ram_gib())]


def fit_verdict(needed_gib: float | None, device: Device) -> str:
    """fits / tight / no, leaving 10 % headroom for fragmentation and the runtime."""
    if needed_gib is None:
        return "n/a"
    if needed_gib <= 0.9 * device.memory_gib:
        return "fits"
    return "tight" if needed_gib <= device.memory_gib else "no"
