"""Stage 1: the scope questions and the consequences of a task choice, each with its reason."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from lifecycle.ladder import LABELS_TO_TRAIN, Rung, first_rung, plan_ladder
from lifecycle.selection.catalog import ModelSpec
from lifecycle.tasks import FITS, Because, Task

# The options of each scope question, in the order shown; the first is the default.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "input_modality": ("text", "text + documents", "code", "structured data"),
    "output_modality": ("free text", "labels or entities", "code", "structured (JSON)"),
    "input_length": (
        "short (< 200 tokens)",
        "medium (200-2k)",
        "long (2k-16k)",
        "very long (> 16k)",
    ),
    "output_length": ("short (< 50 tokens)", "medium (50-500)", "long (> 500)"),
    "latency": ("interactive (< 1 s)", "near real time (< 5 s)", "batch (minutes are fine)"),
    "labelled_examples": ("none", "under 100", "100-1k", "1k-10k", "over 10k"),
    "privacy": ("cloud APIs allowed", "must stay on premises"),
    "budget": ("under $1k", "$1k-10k", "$10k-100k", "$100k-1M", "over $1M"),
    "quality_bar": ("prototype", "internal tool", "customer-facing", "safety-critical"),
}
TIMELINE_WEEKS = (1, 104)  # bounds of the timeline question
LEGACY = {"budget": {"over $100k": "$100k-1M"}}  # older answers, read as their nearest option
BUDGET_USD = dict(zip(QUESTIONS["budget"], (1e3, 1e4, 1e5, 1e6, math.inf)))  # top of each band


@dataclass(frozen=True)
class ScopeAnswers:
    """What the user told us about their project beyond the task."""

    input_modality: str = QUESTIONS["input_modality"][0]
    output_modality: str = QUESTIONS["output_modality"][0]
    input_length: str = QUESTIONS["input_length"][0]
    output_length: str = QUESTIONS["output_length"][0]
    latency: str = QUESTIONS["latency"][1]
    labelled_examples: str = QUESTIONS["labelled_examples"][0]
    privacy: str = QUESTIONS["privacy"][0]
    budget: str = QUESTIONS["budget"][0]
    quality_bar: str = QUESTIONS["quality_bar"][1]
    timeline_weeks: int = 12

    @classmethod
    def from_dict(cls, data: dict | None) -> ScopeAnswers:
        """Answers from a saved record, ignoring unknown or invalid values."""
        data = data if isinstance(data, dict) else {}
        clean: dict[str, Any] = {}
        for name, options in QUESTIONS.items():
            value = data.get(name)
            value = LEGACY.get(name, {}).get(value, value) if isinstance(value, str) else None
            if value in options:
                clean[name] = value
        weeks = data.get("timeline_weeks")
        in_range = isinstance(weeks, int) and TIMELINE_WEEKS[0] <= weeks <= TIMELINE_WEEKS[1]
        if in_range and not isinstance(weeks, bool):  # true is an int to Python, not to a slider
            clean["timeline_weeks"] = weeks
        return cls(**clean)

    def level(self, name: str) -> int:
        """The position of an answer among its options (0 = first)."""
        return QUESTIONS[name].index(getattr(self, name))

    @property
    def budget_usd(self) -> float:
        """The most the budget answer allows, in dollars (infinite for the top band)."""
        return BUDGET_USD[self.budget]


@dataclass(frozen=True)
class Scope:
    """The project's scope record: primary task, optional secondary tasks, answers."""

    primary_task: str = ""
    secondary_tasks: tuple[str, ...] = ()
    answers: ScopeAnswers = field(default_factory=ScopeAnswers)

    @classmethod
    def from_dict(cls, data: dict | None) -> Scope:
        """A scope from its saved record (an empty scope when nothing usable is saved)."""
        data = data if isinstance(data, dict) else {}
        secondary = data.get("secondary_tasks")
        return cls(
            primary_task=str(data.get("primary_task") or ""),
            secondary_tasks=tuple(t for t in secondary if isinstance(t, str))
            if isinstance(secondary, list)
            else (),
            answers=ScopeAnswers.from_dict(data.get("answers")),
        )

    def to_dict(self) -> dict:
        """The record saved in the project store."""
        return {
            "primary_task": self.primary_task,
            "secondary_tasks": list(self.secondary_tasks),
            "answers": asdict(self.answers),
        }

    @property
    def task_ids(self) -> tuple[str, ...]:
        """Primary task first, then the secondary ones."""
        return ((self.primary_task,) if self.primary_task else ()) + tuple(
            t for t in self.secondary_tasks if t != self.primary_task
        )


LATENCY_CAP_B = 4.0  # a 3-4B model answers within a second on one GPU; larger ones rarely do
ON_PREM_CAP_B = 10.0  # one 24 GB GPU holds a ~10B model at int8 with room for its KV cache


@dataclass(frozen=True)
class SizeBand:
    """The sizes worth using for one architecture under these answers, with why."""

    architecture: str
    low: float
    high: float
    why: str

    @property
    def label(self) -> str:
        """'60M-3B'."""
        return f"{billions_label(self.low)}-{billions_label(self.high)}"

    def holds(self, params_b: float) -> bool:
        """True when a model of this size is inside the band."""
        return self.low <= params_b <= self.high


def billions_label(billions: float) -> str:
    """0.135 -> '135M', 7 -> '7B'."""
    return f"{billions * 1000:.0f}M" if billions < 1 else f"{billions:g}B"


def size_cap(answers: ScopeAnswers) -> tuple[float, str] | None:
    """The largest size the latency, hosting and budget answers allow, with why."""
    if answers.level("latency") == 0 or answers.level("budget") == 0:
        return LATENCY_CAP_B, "interactive latency or a budget under $1k caps it near 4B"
    if answers.privacy == "must stay on premises" and answers.level("budget") <= 1:
        return ON_PREM_CAP_B, "self-hosting on a modest budget caps it near 10B (one 24 GB GPU)"
    return None


def size_band(task: Task, answers: ScopeAnswers, architecture: str) -> SizeBand | None:
    """The band of one architecture narrowed by the answers; None when the answers rule it out."""
    band = task.band(architecture)
    if band is None:
        return None
    low, high, reasons = band.min_b, band.max_b, [band.why.rstrip(".")]
    cap = size_cap(answers)
    if cap and cap[0] < high:
        if cap[0] < low:
            return None
        high = cap[0]
        reasons.append(cap[1])
    if answers.level("quality_bar") >= 2 and band.customer_min_b > low:
        if band.customer_min_b <= high:
            low = band.customer_min_b
            reasons.append(
                f"a customer-facing bar starts near {billions_label(low)} for {architecture} models"
            )
        else:
            low = max(low, high / 2)
            reasons.append(
                f"a customer-facing bar would want {billions_label(band.customer_min_b)} or "
                "more, but the cap wins: take the largest model that fits"
            )
    return SizeBand(architecture, low, high, "; ".join(reasons) + ".")


@dataclass(frozen=True)
class TaskCard:
    """The consequences of choosing a task under these answers, each with a reason."""

    task: Task
    architecture: Because
    size: Because
    size_range_b: tuple[float, float]
    bands: tuple[SizeBand, ...]  # the recommended architecture's first, then the alternatives
    metric: Because
    ladder: tuple[Rung, ...]
    risks: tuple[Because, ...]

    @property
    def start_rung(self) -> str:
        """The rung the project starts on."""
        return next(r.step for r in self.ladder if r.status == "start")

    @property
    def top_rung(self) -> str:
        """The highest adaptation rung the project plans to climb (alignment not counted)."""
        planned = [
            r.step for r in self.ladder if r.status in ("start", "plan") and r.step != "rlhf"
        ]
        return planned[-1]

    def rung(self, step: str) -> Rung:
        """One rung of the ladder by its step name."""
        return next(r for r in self.ladder if r.step == step)


def recommend(task: Task, answers: ScopeAnswers) -> tuple[Because, SizeBand]:
    """The architecture to use with the data at hand, its band and why (best fit first)."""
    labelled = answers.level("labelled_examples") >= LABELS_TO_TRAIN
    ranked = sorted(task.architectures, key=lambda a: FITS.index(a.fit))  # stable: yaml order
    best = ranked[0]
    for arch in ranked:
        band, spec = size_band(task, answers, arch.name), task.band(arch.name)
        if band is None or spec is None or (spec.needs_labels and not labelled):
            continue
        if arch is best:
            return arch, band
        why = (
            f"{best.name.capitalize()} is best once you have a few hundred labelled examples; "
            f"with {answers.labelled_examples} labelled, use {arch.name}: {arch.why}"
        )
        return Because(arch.name, why, arch.fit), band
    raise ValueError(f"No architecture fits {task.name} under these answers.")


def needs_retrieval(answers: ScopeAnswers) -> bool:
    """True when answers must come from documents or inputs too long for a context window."""
    return answers.input_modality == "text + documents" or answers.level("input_length") >= 3


def scope_risks(task: Task, answers: ScopeAnswers) -> tuple[Because, ...]:
    """The task's risks plus those the answers add."""
    extra = []
    if answers.privacy == "must stay on premises":
        extra.append(
            Because("Data leaves your premises", "self-host open-weight models; no external APIs")
        )
    if answers.level("quality_bar") == 3:
        extra.append(
            Because("Harm from a wrong answer", "keep a human in the loop and log every output")
        )
    if answers.level("labelled_examples") == 0:
        extra.append(
            Because("No data to measure quality", "write 50-100 test cases before adapting")
        )
    return task.risks + tuple(extra)


def task_card(task: Task, answers: ScopeAnswers) -> TaskCard:
    """The result card for one chosen task."""
    arch, band = recommend(task, answers)
    others = (size_band(task, answers, b.architecture) for b in task.bands)
    labelled = answers.level("labelled_examples") >= LABELS_TO_TRAIN
    spec = task.band(arch.name)
    assert spec is not None  # recommend() returns only an architecture that has a band
    start = first_rung(task, spec, labelled)
    ladder = plan_ladder(
        task,
        arch.name,
        start,
        answers.level("labelled_examples"),
        answers.level("quality_bar"),
        needs_retrieval(answers),
    )
    return TaskCard(
        task=task,
        architecture=arch,
        size=Because(band.label, band.why),
        size_range_b=(band.low, band.high),
        bands=(band,) + tuple(b for b in others if b and b.architecture != arch.name),
        metric=task.metrics[0],
        ladder=ladder,
        risks=scope_risks(task, answers),
    )


def in_scope(model: ModelSpec, cards: list[TaskCard] | tuple[TaskCard, ...]) -> bool:
    """True when a scoped task suits the model and its size is inside that task's band."""
    return any(
        card.task.id in model.tasks
        and any(
            b.architecture == model.architecture and b.holds(model.params_b) for b in card.bands
        )
        for card in cards
    )


def band_models(card: TaskCard, catalog: dict[str, ModelSpec]) -> list[ModelSpec]:
    """Catalogue models of the recommended architecture for this task, inside its band."""
    band = card.bands[0]
    return sorted(
        (
            m
            for m in catalog.values()
            if card.task.id in m.tasks
            and m.architecture == band.architecture
            and band.holds(m.params_b)
        ),
        key=lambda m: m.params,
    )
