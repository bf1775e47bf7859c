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
# Restarts after loss spikes, failed runs and small ablations: a large run's logbook (OPT, BLOOM)
# shows them adding about half again to the final run's compute.
FAILED_RUNS = 0.5
DATA_PREP_WEEKS = 4  # collecting, deduplicating and filtering the corpus before the run starts
OPEN_MODEL_TOKENS = 2e12  # the least data open models of this size saw (Llama 2: 2T tokens)


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
    continued: ComputeEstimate | None = None  # continued pre-training on the domain text

    @property
    def pretrain_all_in_usd(self) -> float:
        """Pre-training compute with restarts, failed runs and ablations."""
        return self.pretrain.cost_usd * (1 + FAILED_RUNS)

    @property
    def route_cost_usd(self) -> float:
        """The compute cost of the recommended route."""
        if self.decision == "pre-train from scratch":
            return self.pretrain_all_in_usd
        if self.decision == "continue pre-training" and self.continued:
            return self.continued.cost_usd
        return self.reuse.cost_usd


@dataclass(frozen=True)
class RouteCost:
    """One way to get a model, in the same units as the others."""

    route: str
    tokens: float
    flops: float
    gpu_hours: float
    cost_usd: float
    calendar_days: float
    gpus: int


def compare_routes(advice: Advice, gpus: int) -> list[RouteCost]:
    """Pre-training (final run and all-in), continued pre-training and reuse + LoRA side by side."""
    p, r = advice.pretrain, advice.reuse
    rows = [
        RouteCost(
            "Pre-train: final run",
            p.tokens,
            p.flops,
            p.gpu_hours,
            p.cost_usd,
            p.calendar_days,
            gpus,
        ),
        RouteCost(
            "Pre-train: with failed runs",
            p.tokens,
            p.flops * (1 + FAILED_RUNS),
            p.gpu_hours * (1 + FAILED_RUNS),
            advice.pretrain_all_in_usd,
            p.calendar_days * (1 + FAILED_RUNS) + DATA_PREP_WEEKS * 7,
            gpus,
        ),
    ]
    if advice.continued:
        c = advice.continued
        rows.append(
            RouteCost(
                "Continue pre-training",
                c.tokens,
                c.flops,
                c.gpu_hours,
                c.cost_usd,
                c.calendar_days,
                gpus,
            )
        )
    rows.append(
        RouteCost("Reuse + LoRA", r.tokens, r.flops, r.gpu_hours, r.cost_usd, r.calendar_days, 1)
    )
    return rows


def advise(inp: AdvisorInput) -> Advice:
    """Apply the rules in order; pre-training only when data, budget, time and need all agree."""
    inp.check()
    n, gpu = inp.params_b * 1e9, GPUS[inp.gpu]
    tokens = inp.tokens_per_param * n
    pretrain = estimate_training(
        n, tokens, gpu, inp.utilisation, inp.gpus, usd_per_hour=inp.usd_per_hour
    )
    continued = estimate_training(
        n,
        min(inp.domain_tokens, tokens),
        gpu,
        inp.utilisation,
        inp.gpus,
        usd_per_hour=inp.usd_per_hour,
    )
    reuse = estimate_training(n, FINETUNE_TOKENS, gpu, inp.utilisation, 1, 4.0, inp.usd_per_hour)
    need = _need_for_own_model(inp)
    gaps = _shortfalls(inp, tokens, pretrain)
    costs = _cost_lines(inp, tokens, pretrain, reuse)
    if need and not gaps:
        return Advice(
            "pre-train from scratch",
            "R1: a real need and everything to meet it",
            (need, "You have the data, budget and time for a compute-optimal run.")
            + costs
            + (_caveat(inp, tokens, pretrain),),
            pretrain,
            reuse,
            continued,
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
            continued,
        )
    reasons = (need or "General language is what base models already know.",) + tuple(gaps)
    return Advice(
        "reuse a base model",
        "R3: reuse unless pre-training is justified and affordable",
        reasons + ("Start with prompting; fine-tune (LoRA) if it plateaus.",) + costs,
        pretrain,
        reuse,
        continued,
    )


def _cost_lines(
    inp: AdvisorInput, tokens: float, pretrain: ComputeEstimate, reuse: ComputeEstimate
) -> tuple[str, str]:
    gpu = GPUS[inp.gpu].name
    return (
        f"Pre-training {inp.params_b:.3g}B on {tokens / 1e9:,.1f}B tokens: "
        f"{pretrain.flops:.2e} FLOPs, {pretrain.gpu_hours:,.0f} GPU-hours, "
        f"~${pretrain.cost_usd:,.0f} for the final run and "
        f"~${pretrain.cost_usd * (1 + FAILED_RUNS):,.0f} with failed runs and ablations, "
        f"{days(pretrain.calendar_days)} on {inp.gpus} {gpu}, after {DATA_PREP_WEEKS}+ weeks "
        "of data preparation.",
        f"Reuse + LoRA on {FINETUNE_TOKENS / 1e6:.0f}M tokens: {reuse.flops:.2e} FLOPs, "
        f"{reuse.gpu_hours:,.2g} GPU-hours, ~{usd(reuse.cost_usd)}, "
        f"{days(reuse.calendar_days)} on 1 {gpu}.",
    )


def _caveat(inp: AdvisorInput, tokens: float, pretrain: ComputeEstimate) -> str:
    matched = pretrain.cost_usd * OPEN_MODEL_TOKENS / tokens
    return (
        f"Caveat: {tokens / 1e9:,.0f}B tokens is compute-optimal for {inp.params_b:.3g}B "
        "parameters, yet open models of this size were trained on 2-15T tokens (Llama 2: 2T, "
        "Gemma 7B: 6T, Llama 3 8B: 15T) and will be far stronger at general language; matching "
        f"even 2T tokens would cost ~${matched:,.0f} in compute. Pre-train only for what they "
        "cannot do."
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
    all_in = pretrain.cost_usd * (1 + FAILED_RUNS)
    if inp.budget_usd < all_in:
        gaps.append(
            f"Budget: ${inp.budget_usd:,.0f} of the ~${all_in:,.0f} needed "
            "(the run plus failed runs and ablations)."
        )
    weeks = pretrain.calendar_days * (1 + FAILED_RUNS) / 7 + DATA_PREP_WEEKS
    if inp.time_weeks < weeks:
        gaps.append(
            f"Time: {inp.time_weeks:g} weeks of the ~{weeks:,.1f} weeks needed "
            f"({DATA_PREP_WEEKS} of data preparation, the run and its restarts; "
            "evaluation comes after)."
        )
    return gaps
