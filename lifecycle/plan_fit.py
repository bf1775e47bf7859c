"""Does the plan fit the scope's timeline and budget? If not, what to cut, with what each saves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lifecycle.plan import ADAPT_DAYS, Duration, derive_durations, end_date, schedule
from lifecycle.scope import Scope, TaskCard
from lifecycle.selection.advisor import Advice
from lifecycle.stages import STAGE_BY_ID
from lifecycle.tasks import LADDER_LABELS
from lifecycle.text import usd

TRAINING = ("peft", "full-fine-tune")


@dataclass(frozen=True)
class PlanFit:
    """The plan against the scope: weeks and compute dollars, problems and cuts in plain words."""

    days: int
    weeks_allowed: int
    cost_usd: float
    budget: str
    problems: tuple[str, ...]
    cuts: tuple[str, ...]

    @property
    def fits(self) -> bool:
        """True when the plan fits both the timeline and the budget."""
        return not self.problems


@dataclass(frozen=True)
class _Inputs:
    scope: Scope
    cards: tuple[TaskCard, ...]
    durations: dict[str, Duration]
    overrides: dict
    start: date
    advice: Advice | None
    params_b: float


def plan_fit(
    scope: Scope,
    cards: tuple[TaskCard, ...],
    durations: dict[str, Duration],
    overrides: dict,
    start: date,
    advice: Advice | None,
    params_b: float = 0.0,
) -> PlanFit:
    """Check the schedule against the timeline and the route's compute against the budget."""
    inp = _Inputs(scope, cards, durations, overrides, start, advice, params_b)
    days = _length(inp, {})
    weeks = scope.answers.timeline_weeks
    cost, what = _compute_cost(inp)
    problems, cuts = [], []
    if days > weeks * 7:
        allowed = f"{weeks} week" + ("s" if weeks != 1 else "")
        problems.append(f"The plan takes {days / 7:.1f} weeks; your scope allows {allowed}.")
        cuts += _time_cuts(inp, days, weeks)
    budget = scope.answers.budget_usd
    if cost > budget:
        problems.append(
            f"Compute alone (~{usd(cost)} for {what}) exceeds your budget ({scope.answers.budget})."
        )
        if advice and advice.decision != "reuse a base model":
            cuts.append(
                f"Reuse a base model and fine-tune it with LoRA: ~{usd(advice.reuse.cost_usd)} "
                "of compute."
            )
    return PlanFit(days, weeks, cost, scope.answers.budget, tuple(problems), tuple(cuts))


def _length(inp: _Inputs, extra: dict[str, int], durations=None) -> int:
    rows = schedule(durations or inp.durations, {**inp.overrides, **extra}, inp.start)
    return (end_date(rows) - inp.start).days


def _time_cuts(inp: _Inputs, days: int, weeks: int) -> list[str]:
    """Each cut with the days it saves, largest first, and what is left after all of them."""
    options = _cut_options(inp)
    saved = [(days - _length(inp, change, durations), text) for text, change, durations in options]
    useful = sorted((s for s in saved if s[0] > 0), key=lambda s: -s[0])
    lines = [f"{text}: saves {n} days." for n, text in useful]
    changes = {k: v for _, change, _ in options for k, v in change.items()}
    narrowed = next((d for _, _, d in options if d), None)
    left = _length(inp, changes, narrowed)
    if left > weeks * 7:
        lines.append(
            f"Even with every cut the plan takes {left / 7:.1f} weeks: extend the timeline "
            "or narrow the scope further."
        )
    return lines


def _cut_options(inp: _Inputs) -> list[tuple[str, dict, dict | None]]:
    """(what to do, duration changes, re-derived durations or None) for each possible cut."""
    options: list[tuple[str, dict, dict | None]] = []
    for stage, duration in inp.durations.items():
        if duration.need != "needed" and inp.overrides.get(stage, 0) > 0:
            title = STAGE_BY_ID[stage].title
            options.append((f"Drop {title} ({duration.need} for this scope)", {stage: 0}, None))
    stretched = [c for c in inp.cards if c.top_rung != c.start_rung]
    if stretched:
        first = max(ADAPT_DAYS[c.start_rung] for c in inp.cards)
        rungs = ", ".join(f"{LADDER_LABELS[c.start_rung]} ({c.task.name})" for c in stretched)
        options.append((f"Ship after the first rung: {rungs}", {"adapt": first}, None))
    if inp.durations["align"].days and inp.durations["align"].need == "needed":
        options.append(("Leave preference tuning (Align) for a second release", {"align": 0}, None))
    if inp.advice and inp.advice.decision != "reuse a base model":
        options.append(
            (
                f"Reuse a base model instead of the plan to {inp.advice.decision}",
                {"model_selection": 5},
                None,
            )
        )
    if len(inp.cards) > 1:
        primary = Scope(inp.scope.primary_task, (), inp.scope.answers)
        durations = derive_durations(
            primary,
            [inp.cards[0]],
            inp.advice.decision if inp.advice else "",
            inp.params_b,
            inp.advice.pretrain.calendar_days if inp.advice else 0.0,
        )
        options.append(("Narrow the scope to the primary task", {}, durations))
    return options


def _compute_cost(inp: _Inputs) -> tuple[float, str]:
    """The compute dollars of the chosen route; prompting alone costs next to nothing."""
    advice = inp.advice
    if advice is None:
        return 0.0, "no build decision yet"
    if advice.decision != "reuse a base model":
        return advice.route_cost_usd, advice.decision
    training = any(
        r.step in TRAINING and r.status in ("start", "plan") for c in inp.cards for r in c.ladder
    )
    if training:
        return advice.reuse.cost_usd, "fine-tuning a reused model"
    return 0.0, "prompting a reused model"
