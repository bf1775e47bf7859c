"""What each stage needs for this scope: the one answer Scope, Home, Plan and the report show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lifecycle.scope import Scope, TaskCard
from lifecycle.tasks import LADDER_LABELS

NEEDS = ("needed", "if needed", "not needed")
TOOL_TASKS = ("external_data_api",)  # tasks whose model calls tools: infrastructure is the point


@dataclass(frozen=True)
class StageNeed:
    """Whether a stage is needed for this scope, and why."""

    need: str  # one of NEEDS
    why: str


def stage_needs(scope: Scope, cards: Sequence[TaskCard]) -> dict[str, StageNeed]:
    """The need of every stage, derived from the task cards (the ladder decides adapt and align)."""
    return {
        "scope": StageNeed("needed", "Every project fixes its task, data and limits first."),
        "model_selection": StageNeed("needed", "A base model to reuse, or a reason to build one."),
        "adapt": _adapt(cards),
        "align": _align(cards),
        "evaluate": StageNeed("needed", "Every change is measured on your test set."),
        "deploy": StageNeed("needed", "The model has to run somewhere its users can reach."),
        "infrastructure": _infrastructure(scope, cards),
    }


def _adapt(cards: Sequence[TaskCard]) -> StageNeed:
    if not cards:
        return StageNeed("needed", "Prompt first; fine-tune only if prompting plateaus.")
    steps = [
        f"{card.task.name}: {LADDER_LABELS[card.start_rung]}"
        + (f" up to {LADDER_LABELS[card.top_rung]}" if card.top_rung != card.start_rung else "")
        for card in cards
    ]
    return StageNeed("needed", "; ".join(steps) + ".")


def _align(cards: Sequence[TaskCard]) -> StageNeed:
    rungs = [(card.task.name, card.rung("rlhf")) for card in cards]
    planned = [name for name, rung in rungs if rung.status == "plan"]
    if planned:
        return StageNeed("needed", f"Preference tuning is planned for {', '.join(planned)}.")
    if rungs and all(rung.status == "not needed" for _, rung in rungs):
        return StageNeed("not needed", rungs[0][1].why)
    return StageNeed("if needed", "Only if evaluation shows unhelpful or unsafe outputs.")


def _infrastructure(scope: Scope, cards: Sequence[TaskCard]) -> StageNeed:
    retrieval = [c.task.name for c in cards if c.rung("rag").status in ("start", "plan")]
    if retrieval:
        return StageNeed("needed", f"Retrieval (RAG) is planned for {', '.join(retrieval)}.")
    if set(TOOL_TASKS) & set(scope.task_ids):
        return StageNeed("needed", "The model calls tools and APIs: they are the product.")
    return StageNeed("if needed", "Add retrieval or tools if evaluation shows missing facts.")
