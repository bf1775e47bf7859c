"""The guided path: each stage's state on the tracker, and the next useful step from any page."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.overview import Overview, stage_decisions, stage_states

TRACK = ("decided", "in progress", "not started", "not needed")
# Pages in the order a project walks them, and the stage each belongs to ("" for the plan).
PAGE_STAGE = {
    "scope": "scope",
    "model_selection": "model_selection",
    "playground": "adapt",
    "finetune": "adapt",
    "align": "align",
    "evaluate": "evaluate",
    "deploy": "deploy",
    "rag": "infrastructure",
    "plan": "",
}
WHY = {
    "scope": "Pick the task and its limits: every other page reads them.",
    "model_selection": "Choose a base model that fits the scope's size, licence and budget.",
    "playground": "Try prompts on a real model and save the best as a version.",
    "finetune": "The scope's ladder plans fine-tuning: train a LoRA adapter on your examples.",
    "align": "Judge answer pairs so the model learns what people prefer.",
    "evaluate": "Score your candidates on a test set, with confidence intervals.",
    "deploy": "Measure quantized variants for speed, size and quality.",
    "rag": "Add retrieval or tools where the model lacks facts.",
    "plan": "Check the schedule and download the report for your stakeholders.",
}
FINE_TUNE_RUNGS = ("peft", "full-fine-tune")


@dataclass(frozen=True)
class NextStep:
    """Where to go next, and why for this project."""

    page: str  # a key of PAGE_STAGE
    why: str


def track(ov: Overview) -> dict[str, str]:
    """Each stage's state on the tracker: one of TRACK, from the records only (nothing invented)."""
    done = decided(ov)
    out = {}
    for stage, state in stage_states(ov).items():
        if stage in done:
            out[stage] = "decided"
        elif state.progress != "not started":
            out[stage] = "in progress"
        else:
            out[stage] = "not needed" if state.need == "not needed" else "not started"
    return out


def decided(ov: Overview) -> set[str]:
    """The stages whose output exists (a task, a model, a prompt or adapter, scores, measures) or
    whose gate has a decision."""
    done = set()
    if ov.cards:
        done.add("scope")
    if ov.model:
        done.add("model_selection")
    finished = [f for f in ov.finetunes if f.get("state") == "completed"]
    if ov.versions or any(f.get("method") != "dpo" for f in finished):
        done.add("adapt")
    if any(f.get("method") == "dpo" for f in finished):
        done.add("align")
    if any(r.scores for r in ov.eval_runs):
        done.add("evaluate")
    if ov.measurements:
        done.add("deploy")
    stages = {row.stage for row in ov.plan}
    return done | (set(stage_decisions(ov)) & stages)  # a gate's decision, accepted or overridden


def overridden(ov: Overview) -> set[str]:
    """The stages whose current decision overrides its gate's proposal (flagged on the tracker)."""
    taken = stage_decisions(ov)
    return {stage for stage, found in taken.items() if any(d.get("overridden") for d in found)}


def plans_fine_tuning(ov: Overview) -> bool:
    """True when a task's adaptation ladder starts at, or plans, a fine-tuning rung."""
    return any(c.rung(r).status in ("start", "plan") for c in ov.cards for r in FINE_TUNE_RUNGS)


def next_step(ov: Overview, page: str = "") -> NextStep:
    """The next useful page after `page` ('' for Home): a missing scope first, then in order."""
    if page != "scope" and "scope" not in decided(ov):
        return NextStep("scope", WHY["scope"])
    states = track(ov)
    order = list(PAGE_STAGE)
    for candidate in order[order.index(page) + 1 if page in order else 0 :]:
        stage = PAGE_STAGE[candidate]
        if candidate == "finetune" and not plans_fine_tuning(ov):
            continue
        if stage and states[stage] in ("decided", "not needed"):
            continue
        return NextStep(candidate, WHY[candidate])
    return NextStep("plan", WHY["plan"])
