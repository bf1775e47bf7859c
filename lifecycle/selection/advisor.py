"""Build from scratch or reuse a base model: rules of thumb, applied in order, with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lifecycle.selection.compute import GPUS, ComputeEstimate, estimate_training
from lifecycle.text import days, usd

VOCABULARY = (
    "general language",
    "specialised jargon",
    "a language or notation models barely cover",
)
CONTROL = ("a standard open licence is fine", "we must control training data and weights")
FINETUNE_TOKENS = 20e6  # a generous instruction-tuning set: ~100k examples of ~200 tokens


@dataclass(frozen=True)
class AdvisorInput:
    """What the build-vs-reuse decision depends on."""

    params_b: float = 1.0  # target model size, billions
    vocabulary: str = VOCABULARY[0]
    domain_tokens: float = 1e7  # tokens of domain text available
    budget_usd: float = 10_000.0
    time_weeks: float = 12.0
    control: str = CONTROL[0]
    gpu: str = "A100 80GB"
    gpus: int = 64  # a pre-training fleet is rented by the dozen
    tokens_per_param: float = 20.0  # Chinchilla-optimal data
    utilisation: float = 0.4  # model FLOP utilisation of a well-tuned large run
    usd_per_hour: float = 0.0  # 0: the GPU's typical cloud price
    # what the page's inputs accept; saved values outside are clamped (or dropped) when read back
    LIMITS: ClassVar[dict] = {
        "params_b": (0.0, 100_000.0),
        "vocabulary": VOCABULARY,
        "domain_tokens": (1e6, 1e12),
        "budget_usd": (0.0, 1e12),
        "time_weeks": (0.0, 520.0),
        "control": CONTROL,
        "gpu": tuple(GPUS),
        "gpus": (1, 100_000),
        "tokens_per_param": (0.0, 10_000.0),
        "utilisation": (0.05, 1.0),
        "usd_per_hour": (0.0, 1e6),
    }

    def check(self) -> None:
        """Refuse impossible inputs with a message naming the field."""
        if self.params_b <= 0:
            raise ValueError("The model size must be positive.")
        if self.domain_tokens < 0 or self.budget_usd < 0 or self.time_weeks <= 0:
            raise ValueError("Data, budget and time cannot be negative (time must be > 0).")
        if self.tokens_per_param <= 0:
            raise ValueError("Tokens per parameter must be positive.")
        if self.gpu not in GPUS:
            raise ValueError(f"Unknown GPU {self.gpu!r}; choose one of {', '.join(GPUS)}.")
        if self.gpus < 1 or not 0 < self.utilisation <= 1 or self.usd_per_hour < 0:
            raise ValueError("Use at least one GPU, a utilisation in (0, 1] and a price >= 0.")


@dataclass(frozen=True)
class Advice:
    """The recommendation, the rule that produced it, and the reasons and costs behind it."""

    decision: str  # reuse | continue pre-training | pre-train from scratch
    rule: str
    reasons: tuple[str, ...]
    pretrain: ComputeEstimate
    reuse: ComputeEstimate


def advise(inp: AdvisorInput) -> Advice:
    """Apply the rules in order; pre-training only when data, budget, time and need all agree."""
    inp.check()
    n, gpu = inp.params_b * 1e9, GPUS[inp.gpu]
    tokens = inp.tokens_per_param * n
    pretrain = estimate_training(
        n, tokens, gpu, inp.utilisation, inp.gpus, usd_per_hour=inp.usd_per_hour
    )
    reuse = estimate_training(n, FINETUNE_TOKENS, gpu, inp.utilisation, 1, 4.0, inp.usd_per_hour)
    need = _need_for_own_model(inp)
    gaps = _shortfalls(inp, tokens, pretrain)
    costs = (
        f"Pre-training {inp.params_b:.3g}B on {tokens / 1e9:,.1f}B tokens: "
        f"~${pretrain.cost_usd:,.0f}, {days(pretrain.calendar_days)} on {inp.gpus} {gpu.name}.",
        f"Reuse + LoRA on {FINETUNE_TOKENS / 1e6:.0f}M tokens: ~{usd(reuse.cost_usd)}, "
        f"{reuse.gpu_hours:,.2g} GPU-hours.",
    )
    if need and not gaps:
        return Advice(
            "pre-train from scratch",
            "R1: a real need and everything to meet it",
            (need, "You have the data, budget and time for a compute-optimal run.") + costs,
            pretrain,
            reuse,
        )
    if inp.vocabulary != VOCABULARY[0] and inp.domain_tokens >= 1e9:
        why = "Your domain differs from web text and you have over a billion tokens of it."
        return Advice(
            "continue pre-training",
            "R2: domain text to spare, not a new model",
            (why, "Continue pre-training a base model on it, then fine-tune.")
            + tuple(gaps)
            + costs,
            pretrain,
            reuse,
        )
    reasons = (need or "General language is what base models already know.",) + tuple(gaps)
    return Advice(
        "reuse a base model",
        "R3: reuse unless pre-training is justified and affordable",
        reasons + ("Start with prompting; fine-tune (LoRA) if it plateaus.",) + costs,
        pretrain,
        reuse,
    )


def _need_for_own_model(inp: AdvisorInput) -> str:
    if inp.vocabulary == VOCABULARY[2]:
        return "Base models barely cover your language or notation, so their tokenizer fits badly."
    if inp.control == CONTROL[1]:
        return "You must control every training document and own the weights outright."
    return ""


def _shortfalls(inp: AdvisorInput, tokens: float, pretrain: ComputeEstimate) -> list[str]:
    gaps = []
    if inp.domain_tokens < tokens:
        gaps.append(
            f"Data: {inp.domain_tokens / 1e9:,.2f}B tokens of the ~{tokens / 1e9:,.1f}B a "
            f"compute-optimal run needs ({inp.tokens_per_param:g} per parameter)."
        )
    if inp.budget_usd < pretrain.cost_usd:
        gaps.append(f"Budget: ${inp.budget_usd:,.0f} of the ~${pretrain.cost_usd:,.0f} needed.")
    if inp.time_weeks * 7 < pretrain.calendar_days:
        gaps.append(
            f"Time: {inp.time_weeks:g} weeks of the ~{pretrain.calendar_days / 7:,.1f} weeks "
            "needed (before data preparation and evaluation)."
        )
    return gaps
