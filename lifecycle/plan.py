"""The plan: stage durations derived from the decisions, dependencies, critical path, dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lifecycle.needs import stage_needs
from lifecycle.scope import Scope, TaskCard
from lifecycle.stages import STAGES

MAX_DAYS = 730  # two years for one stage: beyond that the input is a typo
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # a plan starts between these

# (predecessor, successor, type, lag as a fraction of the predecessor's duration)
# FS: starts after it ends; SS: starts after it has started (+lag); FF: ends no earlier.
LINKS = (
    ("scope", "model_selection", "FS", 0.0),
    ("model_selection", "adapt", "FS", 0.0),
    ("adapt", "align", "SS", 0.5),  # align once a first adapted model exists
    ("adapt", "evaluate", "SS", 0.25),  # evaluation runs inside the adapt/align loop
    ("align", "evaluate", "SS", 0.0),  # the order of the stages is fixed
    ("adapt", "evaluate", "FF", 0.0),
    ("align", "evaluate", "FF", 0.0),
    ("evaluate", "deploy", "FS", 0.0),
    ("deploy", "infrastructure", "SS", 0.0),  # infrastructure is built beside deployment
)


@dataclass(frozen=True)
class Duration:
    """A stage's derived duration in days, why, and whether the scope needs the stage."""

    days: int
    why: str
    need: str = "needed"  # needed | if needed | not needed (lifecycle.needs)


@dataclass(frozen=True)
class PlanRow:
    """One stage of the schedule."""

    stage: str
    title: str
    days: int
    derived_days: int
    why: str
    start: date
    end: date
    slack: int
    critical: bool
    need: str = "needed"


ADAPT_DAYS = {"zero-shot": 5, "few-shot": 10, "rag": 15, "peft": 20, "full-fine-tune": 30}
SMALL_TRAINING_DAYS = 15  # a small encoder or seq2seq model trains in hours, not days
ALIGN_DAYS = 20  # collect preference pairs, then a DPO or RLHF run and its checks


def derive_durations(
    scope: Scope,
    cards: list[TaskCard],
    decision: str = "",
    params_b: float = 0.0,
    pretrain_days: float = 0.0,
) -> dict[str, Duration]:
    """Days per stage from the scope, the task cards, the build decision and the model size.

    A stage the scope does not need (lifecycle.needs) gets 0 days: it is not scheduled.
    """
    a = scope.answers
    needs = stage_needs(scope, cards)
    retrieval = needs["infrastructure"].need == "needed" and any(
        c.rung("rag").status in ("start", "plan") for c in cards
    )
    planned = {
        "scope": (5 + 2 * max(0, len(scope.task_ids) - 1), "a week, plus 2 days per extra task"),
        "model_selection": _selection_days(decision, pretrain_days),
        "adapt": _adapt_days(cards),
        "align": (ALIGN_DAYS, "collect preference pairs, then DPO or RLHF"),
        "evaluate": (
            5 + 5 * max(0, a.level("quality_bar") - 1),
            "grows with the quality bar (test sets, human review)",
        ),
        "deploy": (
            _deploy_days(params_b, a.level("latency") == 0),
            "grows with model size and a tight latency target",
        ),
        "infrastructure": (15, "retrieval pipeline and vector store")
        if retrieval
        else (10, "tool and API integrations"),
    }
    out = {}
    for stage, need in needs.items():
        days, why = planned[stage]
        if need.need != "needed":
            days, why = 0, f"{need.need}: {need.why} Not scheduled."
        out[stage] = Duration(days, why, need.need)
    return out


def _adapt_days(cards: list[TaskCard]) -> tuple[int, str]:
    if not cards:
        return ADAPT_DAYS["few-shot"], "no task yet: a few-shot prompt"
    days = {
        card.task.name: SMALL_TRAINING_DAYS
        if card.top_rung in ("peft", "full-fine-tune")
        and card.architecture.name != "decoder-only"
        and card.size_range_b[1] <= 3.5
        else ADAPT_DAYS[card.top_rung]
        for card in cards
    }
    slowest = max(days, key=days.__getitem__)
    top = next(c.top_rung for c in cards if c.task.name == slowest)
    return days[slowest], f"highest planned rung: {top} ({slowest})"


def _selection_days(decision: str, pretrain_days: float) -> tuple[int, str]:
    if decision == "pre-train from scratch":
        days = 30 + round(min(pretrain_days, MAX_DAYS))  # beyond two years the inputs are typos
        return min(days, MAX_DAYS), "data preparation plus the pre-training run"
    if decision == "continue pre-training":
        return 20, "domain-adaptive pre-training of a base model"
    return 5, "reuse: compare a few base models"


def _deploy_days(params_b: float, interactive: bool) -> int:
    days = 5 if params_b <= 1 else 10 if params_b <= 10 else 15
    return days + (5 if interactive else 0)


def check_days(days: dict[str, int]) -> list[str]:
    """Problems with user-entered durations, as messages (empty when all is well)."""
    problems = []
    for stage in STAGES:
        value = days.get(stage.id)
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{stage.title}: enter a whole number of days.")
        elif value < 0 or value > MAX_DAYS:
            problems.append(f"{stage.title}: {value} days is outside 0-{MAX_DAYS}.")
        elif value == 0 and stage.id not in ("align", "infrastructure"):
            problems.append(
                f"{stage.title}: only Align and Infrastructure may be skipped (0 days)."
            )
    return problems


def start_date(text: object) -> date:
    """A saved start date, or today when it is missing, malformed or out of range."""
    try:
        start = date.fromisoformat(str(text))
    except ValueError:
        return date.today()
    return start if EARLIEST <= start <= LATEST else date.today()


def valid_overrides(raw: object) -> dict[str, int]:
    """Saved duration overrides that make sense; anything else (hand-edited files) is dropped."""
    if not isinstance(raw, dict):
        return {}
    base = {s.id: 1 for s in STAGES}
    return {
        stage.id: raw[stage.id]
        for stage in STAGES
        if stage.id in raw and not check_days(base | {stage.id: raw[stage.id]})
    }


def schedule(
    durations: dict[str, Duration], overrides: dict[str, int], start: date
) -> list[PlanRow]:
    """Earliest start, slack and the critical path of the stages (critical path method)."""
    days = {s.id: int(overrides.get(s.id, durations[s.id].days)) for s in STAGES}
    es: dict[str, float] = {}
    for s in STAGES:  # STAGES is a topological order of LINKS
        es[s.id] = max(
            [0.0]
            + [
                _earliest(p, kind, lag, es, days, days[s.id])
                for p, succ, kind, lag in LINKS
                if succ == s.id
            ]
        )
    finish = max(es[s] + days[s] for s in es)
    lf: dict[str, float] = {}
    for s in reversed(STAGES):
        limits = [
            _latest(succ, kind, lag, lf, days, days[s.id])
            for p, succ, kind, lag in LINKS
            if p == s.id
        ]
        lf[s.id] = min([finish] + limits)
    rows = []
    for s in STAGES:
        slack = lf[s.id] - (es[s.id] + days[s.id])
        begin = start + timedelta(days=round(es[s.id]))
        rows.append(
            PlanRow(
                s.id,
                s.title,
                days[s.id],
                durations[s.id].days,
                durations[s.id].why,
                begin,
                begin + timedelta(days=days[s.id]),
                round(slack),
                slack < 0.5 and days[s.id] > 0,  # a skipped stage is never critical
                durations[s.id].need,
            )
        )
    return rows


def _earliest(pred: str, kind: str, lag: float, es: dict, days: dict, own: int) -> float:
    if kind == "FS":
        return es[pred] + days[pred]
    if kind == "SS":
        return es[pred] + lag * days[pred]
    return es[pred] + days[pred] - own  # FF: finish no earlier than the predecessor


def _latest(succ: str, kind: str, lag: float, lf: dict, days: dict, own: int) -> float:
    ls_succ = lf[succ] - days[succ]
    if kind == "FS":
        return ls_succ
    if kind == "SS":
        return ls_succ - lag * own + own  # own start must be <= successor's start - lag
    return lf[succ]  # FF


def end_date(rows: list[PlanRow]) -> date:
    """When the last stage ends."""
    return max(r.end for r in rows)
