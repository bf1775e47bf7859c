"""Stage 1: the scope questions and the consequences of a task choice, each with its reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lifecycle.tasks import LADDER, LADDER_LABELS, Because, Task

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
    "budget": ("under $1k", "$1k-10k", "$10k-100k", "over $100k"),
    "quality_bar": ("prototype", "internal tool", "customer-facing", "safety-critical"),
}
TIMELINE_WEEKS = (1, 104)  # bounds of the timeline question


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
    def from_dict(cls, data: dict) -> ScopeAnswers:
        """Answers from a saved record, ignoring unknown or invalid values."""
        clean = {}
        for name, options in QUESTIONS.items():
            if data.get(name) in options:
                clean[name] = data[name]
        weeks = data.get("timeline_weeks")
        if isinstance(weeks, int) and TIMELINE_WEEKS[0] <= weeks <= TIMELINE_WEEKS[1]:
            clean["timeline_weeks"] = weeks
        return cls(**clean)

    def level(self, name: str) -> int:
        """The position of an answer among its options (0 = first)."""
        return QUESTIONS[name].index(getattr(self, name))


@dataclass(frozen=True)
class Scope:
    """The project's scope record: primary task, optional secondary tasks, answers."""

    primary_task: str = ""
    secondary_tasks: tuple[str, ...] = ()
    answers: ScopeAnswers = field(default_factory=ScopeAnswers)

    @classmethod
    def from_dict(cls, data: dict | None) -> Scope:
        """A scope from its saved record (an empty scope when nothing is saved)."""
        data = data or {}
        return cls(
            primary_task=str(data.get("primary_task") or ""),
            secondary_tasks=tuple(data.get("secondary_tasks") or ()),
            answers=ScopeAnswers.from_dict(data.get("answers") or {}),
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


@dataclass(frozen=True)
class Rung:
    """One step of the adaptation ladder as planned for this project."""

    step: str
    label: str
    status: str  # start | plan | if needed | skip
    why: str


@dataclass(frozen=True)
class TaskCard:
    """The consequences of choosing a task under these answers, each with a reason."""

    task: Task
    architecture: Because
    size: Because
    size_range_b: tuple[float, float]
    metric: Because
    ladder: tuple[Rung, ...]
    risks: tuple[Because, ...]

    @property
    def top_rung(self) -> str:
        """The highest rung the project plans to climb (start or plan)."""
        planned = [r.step for r in self.ladder if r.status in ("start", "plan")]
        return planned[-1] if planned else self.task.start_at


def size_range(task: Task, answers: ScopeAnswers) -> tuple[float, float, str]:
    """The task's size band in billions, narrowed by latency, hosting and budget, with why."""
    low, high = task.size_min_b, task.size_max_b
    reasons = [task.size_why.rstrip(".")]
    if answers.level("latency") == 0 or answers.level("budget") == 0:
        high = max(low, min(high, 3.0))
        reasons.append("interactive latency or a small budget caps it near 3B parameters")
    elif answers.privacy == "must stay on premises" and answers.level("budget") <= 1:
        high = max(low, min(high, 8.0))
        reasons.append("self-hosting on a modest budget caps it near 8B (one 24 GB GPU at int8)")
    if answers.level("quality_bar") >= 2 and high >= 2 * low:
        low = round(max(low, min(high / 4, 7.0)), 2)
        reasons.append("a customer-facing quality bar argues against the smallest models")
    return low, high, "; ".join(reasons) + "."


def billions_label(billions: float) -> str:
    """0.135 -> '135M', 7 -> '7B'."""
    return f"{billions * 1000:.0f}M" if billions < 1 else f"{billions:g}B"


def plan_ladder(task: Task, answers: ScopeAnswers) -> tuple[Rung, ...]:
    """Mark each rung start / plan / if needed / skip from the task and the answers."""
    start = LADDER.index(task.start_at)
    needs_rag = answers.input_modality == "text + documents" or answers.level("input_length") >= 3
    data = answers.level("labelled_examples")
    quality = answers.level("quality_bar")
    rungs = []
    for i, rung in enumerate(task.ladder):
        step = rung.name
        if i == start:
            status, note = "start", task.start_why
        elif i < start:
            status, note = "skip", "Keep it as a baseline; this task starts higher."
        elif step == "rag" and needs_rag:
            status, note = "plan", "Answers must come from your documents or long inputs."
        elif step == "peft" and data >= 2:
            status, note = "plan", "You have hundreds of labelled examples."
        elif step == "full-fine-tune" and data >= 4 and quality >= 2:
            status, note = "plan", "Over 10k examples and a high bar can repay it."
        elif step == "rlhf" and quality >= 2 and task.id in ("chatbot", "essay_writing"):
            status, note = "plan", "Open-ended output for customers needs preference tuning."
        elif step in ("peft", "full-fine-tune") and data == 0:
            status, note = "if needed", "Collect labelled examples first."
        else:
            status, note = "if needed", ""
        why = note if i == start else f"{rung.why.rstrip('.')}. {note}".strip()
        rungs.append(Rung(step, LADDER_LABELS[step], status, why))
    return tuple(rungs)


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
    low, high, why = size_range(task, answers)
    return TaskCard(
        task=task,
        architecture=task.best_architecture(),
        size=Because(f"{billions_label(low)}-{billions_label(high)}", why),
        size_range_b=(low, high),
        metric=task.metrics[0],
        ladder=plan_ladder(task, answers),
        risks=scope_risks(task, answers),
    )
