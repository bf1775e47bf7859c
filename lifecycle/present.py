"""Present mode's content: one screen per stage with its decision, its evidence and the next step,
derived from the project's records only (an untouched stage says "not started")."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.decision_records import current
from lifecycle.evaluation.runs import best_like_for_like, primary_key
from lifecycle.glossary import display_name
from lifecycle.guided import WHY, NextStep, next_step, track
from lifecycle.overview import Overview, stage_states
from lifecycle.report_summary import retrieval_rows
from lifecycle.stages import STAGES
from lifecycle.text import plural

# The page each stage is worked on (first of its pages), and the last one, whose Next follows.
FIRST_PAGE = {
    "scope": "scope",
    "model_selection": "model_selection",
    "adapt": "playground",
    "align": "align",
    "evaluate": "evaluate",
    "deploy": "deploy",
    "infrastructure": "rag",
}
LAST_PAGE = {**FIRST_PAGE, "adapt": "finetune"}


@dataclass(frozen=True)
class Screen:
    """One stage on one screen. `sentence` may quote records: renderers escape it."""

    stage: str
    number: int
    title: str
    state: str  # decided | in progress | not started | not needed
    sentence: str  # the decision (or the state) in one sentence
    evidence: str  # the chart: "" | plan | memory | loss | dpo | scores | deploy | retrieval
    next: NextStep
    decisions: tuple[str, ...] = ()  # the gates' recorded decisions, overrides flagged


def screens(ov: Overview, measured: dict[str, list] | None = None) -> list[Screen]:
    """The seven screens in stage order."""
    states, tracked = stage_states(ov), track(ov)
    out = []
    for stage in STAGES:
        state = tracked[stage.id]
        if state == "not started":
            sentence, evidence = f"Not started. {stage.summary}", ""
            step = NextStep(FIRST_PAGE[stage.id], WHY[FIRST_PAGE[stage.id]])
        elif state == "not needed":
            sentence, evidence = f"Not needed for this scope: {states[stage.id].why}", ""
            step = next_step(ov, LAST_PAGE[stage.id])
        else:
            sentence, evidence = SENTENCES[stage.id](ov, measured or {})
            sentence = sentence or f"In progress: {states[stage.id].progress}."
            step = next_step(ov, LAST_PAGE[stage.id])
        made = tuple(_decision(d) for d in current(ov.decisions) if d.get("stage") == stage.id)
        out.append(
            Screen(stage.id, stage.number, stage.title, state, sentence, evidence, step, made)
        )
    return out


def _decision(record: dict) -> str:
    """A decision record in one line: what was chosen, why, and who overrode what."""
    line = f"Decision: {record.get('what', '')}"
    if record.get("overridden"):
        return line + f" (overrode “{record.get('proposal', '')}”: {record.get('reason', '')})"
    return line + (f" ({record['why']})" if record.get("why") else "")


def _scope(ov: Overview, _: dict) -> tuple[str, str]:
    if not ov.cards:
        return "", ""
    card = ov.cards[0]
    start = next((r.label for r in card.ladder if r.status == "start"), "")
    more = f" (and {plural(len(ov.cards) - 1, 'more task')})" if len(ov.cards) > 1 else ""
    return (
        f"{card.task.name}{more}: {card.architecture.name} model, {card.size.name} parameters, "
        f"judged by {display_name(card.metric.name)}"
        + (f"; start with {start[:1].lower() + start[1:]}." if start else "."),
        "plan",
    )


def _model(ov: Overview, _: dict) -> tuple[str, str]:
    if not ov.model:
        return "", ""
    m = ov.model
    route = f"{ov.advice.decision.capitalize()}: " if ov.advice else ""
    return (
        f"{route}{m.name}, {m.params_b:.3g}B parameters, licence {m.licence}, "
        f"context {m.context_length:,} tokens.",
        "memory",
    )


def _adapt(ov: Overview, _: dict) -> tuple[str, str]:
    tunes = [f for f in ov.finetunes if f.get("method") != "dpo"]
    parts = [plural(len(ov.versions), "prompt version") + " saved"] if ov.versions else []
    if tunes:
        done = [f for f in tunes if f.get("state") == "completed"]
        parts.append(f"{len(done)} of {plural(len(tunes), 'fine-tune run')} completed")
        losses = [f for f in done if isinstance(f.get("eval_loss"), (int, float))]
        best = min(losses, key=lambda f: f["eval_loss"], default=None)
        if best:
            parts.append(f"best validation loss {best['eval_loss']:.3f} ({best.get('id', '')})")
    return _sentence(parts), "loss" if tunes else ""


def _align(ov: Overview, _: dict) -> tuple[str, str]:
    dpo = [f for f in ov.finetunes if f.get("method") == "dpo"]
    parts = [plural(ov.preferences, "preference pair") + " judged"] if ov.preferences else []
    if dpo:
        done = sum(f.get("state") == "completed" for f in dpo)
        parts.append(f"{done} of {plural(len(dpo), 'DPO run')} completed")
    return _sentence(parts), "dpo" if dpo else ""


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def _evaluate(ov: Overview, _: dict) -> tuple[str, str]:
    compared = best_like_for_like(list(ov.eval_runs))
    if not compared:
        return "", ""
    best, peers = compared
    key = primary_key(best.metrics)
    lead = "leads" if len(peers) > 1 else "scores"
    return (
        f"{best.candidate.label} {lead} on {best.set_name}: {display_name(key)} "
        f"{best.scores[key]:.3f} ({plural(len(peers), 'candidate')} on the same examples).",
        "scores",
    )


def _deploy(ov: Overview, measured: dict) -> tuple[str, str]:
    reports = [r for rs in measured.values() for r in rs if not r.error]
    if not reports:
        return "", ""
    fast = max(reports, key=lambda r: r.tokens_per_s)
    key = display_name(fast.quality_key or "quality")
    return (
        f"{plural(len(reports), 'variant')} measured; fastest: {fast.name} at "
        f"{fast.tokens_per_s:.1f} tokens/s, {key} {fast.primary:.3f}.",
        "deploy",
    )


def _infrastructure(ov: Overview, _: dict) -> tuple[str, str]:
    rows = retrieval_rows(ov)
    if not rows:
        return "", ""
    best = max(rows, key=lambda r: r["hit_rate"])
    low, high = best["hit_rate_interval"]
    return (
        f"{plural(len(rows), 'collection')} measured; {best['collection']}: hit@{best['k']} "
        f"{best['hit_rate']:.2f} [{low:.2f}, {high:.2f}] on {best['questions']} questions, "
        f"MRR {best['mrr']:.2f}.",
        "retrieval",
    )


SENTENCES = {
    "scope": _scope,
    "model_selection": _model,
    "adapt": _adapt,
    "align": _align,
    "evaluate": _evaluate,
    "deploy": _deploy,
    "infrastructure": _infrastructure,
}
