"""Training compute: C ~ 6·N·D FLOPs, Chinchilla-optimal data, GPU-hours, cost and calendar time."""

from __future__ import annotations

from dataclasses import dataclass

CHINCHILLA_TOKENS_PER_PARAM = 20  # Hoffmann et al. 2022: compute-optimal data ~ 20 tokens/param


@dataclass(frozen=True)
class Gpu:
    """A training accelerator: dense bf16 peak (fp16 for T4) and a typical cloud price."""

    name: str
    peak_tflops: float
    usd_per_hour: float


GPUS = {
    "T4": Gpu("T4", 65, 0.35),
    "L4": Gpu("L4", 121, 0.80),
    "A10": Gpu("A10", 125, 1.00),
    "A100 40GB": Gpu("A100 40GB", 312, 1.50),
    "A100 80GB": Gpu("A100 80GB", 312, 2.00),
    "H100 80GB": Gpu("H100 80GB", 989, 3.00),
}


@dataclass(frozen=True)
class ComputeEstimate:
    """FLOPs of a training run and what they cost on a given GPU fleet."""

    flops: float
    tokens: float
    gpu_hours: float
    cost_usd: float
    calendar_days: float


def estimate_training(
    params: float,
    tokens: float,
    gpu: Gpu,
    utilisation: float = 0.4,  # model FLOP utilisation; 30-50 % is typical for large runs
    gpus: int = 8,
    flops_per_token_param: float = 6.0,  # 6 for full training; ~4 for LoRA (no weight grads)
    usd_per_hour: float = 0.0,  # 0: the GPU's typical cloud price
) -> ComputeEstimate:
    """Compute, GPU-hours, cost and days for training `params` on `tokens` tokens."""
    if params <= 0 or tokens <= 0:
        raise ValueError("Parameters and tokens must be positive.")
    if not 0 < utilisation <= 1:
        raise ValueError("Utilisation is a fraction between 0 and 1.")
    if gpus < 1:
        raise ValueError("At least one GPU is needed.")
    flops = flops_per_token_param * params * tokens
    hours = flops / (gpu.peak_tflops * 1e12 * utilisation) / 3600
    price = usd_per_hour or gpu.usd_per_hour
    return ComputeEstimate(flops, tokens, hours, hours * price, hours / gpus / 24)


def chinchilla_tokens(params: float, per_param: float = CHINCHILLA_TOKENS_PER_PARAM) -> float:
    """Compute-optimal training tokens for a model of this size."""
    return per_param * params
