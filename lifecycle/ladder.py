"""The adaptation ladder of one task: which rung to start on, and what to plan, skip or keep."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.tasks import LADDER, LADDER_LABELS, Band, Task

STATUSES = ("start", "plan", "baseline", "if needed", "not needed")
PROMPTING = ("zero-shot", "few-shot")
TRAINING = ("peft", "full-fine-tune")
LABELS_TO_TRAIN = 2  # level of "100-1k": a few hundred labelled examples make training worth it
# Rungs an architecture can start on: an encoder cannot be prompted to write an answer, so it
# starts by retrieving (as an embedder) or by being trained on labels.
STARTS = {
    "encoder-only": ("rag", "peft", "full-fine-tune"),
    "decoder-only": ("zero-shot", "few-shot", "rag", "peft", "full-fine-tune"),
    "encoder-decoder": ("zero-shot", "few-shot", "rag", "peft", "full-fine-tune"),
}


@dataclass(frozen=True)
class Rung:
    """One step of the adaptation ladder as planned for this project."""

    step: str
    label: str
    status: str  # one of STATUSES
    why: str


def first_rung(task: Task, band: Band, labelled: bool) -> str:
    """Where this route starts: its own start, or a prompt until there are labels to train on."""
    start = band.start_at or task.start_at
    return "few-shot" if start in TRAINING and not labelled else start


def plan_ladder(
    task: Task, architecture: str, start: str, data: int, quality: int, needs_rag: bool
) -> tuple[Rung, ...]:
    """Every rung with its status; `data` and `quality` are the answers' levels (0 = lowest)."""
    first = LADDER.index(start)
    rungs = []
    for i, rung in enumerate(task.ladder):
        status, note = _status(task, architecture, rung.name, i - first, data, quality, needs_rag)
        why = f"{rung.why.rstrip('.')}. {note}".strip() if note else rung.why
        rungs.append(Rung(rung.name, LADDER_LABELS[rung.name], status, why))
    return tuple(rungs)


def _status(
    task: Task, arch: str, step: str, offset: int, data: int, quality: int, needs_rag: bool
) -> tuple[str, str]:
    """(status, note) of one rung; `offset` is its distance from the start rung."""
    if offset == 0:
        return "start", ""
    if step == "rlhf":
        return _alignment(task, quality)
    if step in PROMPTING and offset < 0:
        return "baseline", "Keep it as a baseline: the number the start rung must beat."
    if step == "rag":
        if needs_rag:
            return "plan", "Answers must come from your documents or long inputs."
        return "if needed", ""
    if arch == "encoder-only" and step == "peft":
        return "not needed", "A small encoder is fine-tuned in full at little cost."
    if step in TRAINING and data < LABELS_TO_TRAIN:
        return "if needed", "Collect a few hundred labelled examples first."
    if step == "peft":
        return "plan", "You have hundreds of labelled examples."
    if step == "full-fine-tune" and _full_tune_pays(arch, data, quality):
        return "plan", "Enough labelled data for a small model to repay training all its weights."
    return "if needed", ""


def _alignment(task: Task, quality: int) -> tuple[str, str]:
    if task.alignment == "not needed":
        return "not needed", "Clear right answers: supervised labels work better than preferences."
    if task.alignment == "customer-facing" and quality >= 2:
        return "plan", "Open-ended output for customers needs preference tuning."
    return "if needed", "Only if evaluation shows unhelpful or unsafe outputs."


def _full_tune_pays(arch: str, data: int, quality: int) -> bool:
    if arch == "encoder-decoder":
        return data >= 3  # thousands of pairs: a small seq2seq model trains fully and cheaply
    return data >= 4 and quality >= 2


def suits(architecture: str, step: str) -> bool:
    """True when a ladder can start on `step` with a model of this architecture."""
    return step in STARTS.get(architecture, ())
