"""Everything decided in a project, read from the store and derived once for all pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lifecycle.evaluation.runs import EvalRun, best_like_for_like, list_eval_runs, primary_key
from lifecycle.gates import GATES
from lifecycle.glossary import display_name
from lifecycle.needs import stage_needs
from lifecycle.plan import PlanRow, derive_durations, schedule, start_date, valid_overrides
from lifecycle.plan_fit import PlanFit, plan_fit
from lifecycle.scope import Scope, TaskCard, task_card
from lifecycle.selection.advisor import Advice, AdvisorInput, advise
from lifecycle.selection.catalog import ModelSpec, custom_model, load_catalog
from lifecycle.selection.configs import spec_from_shape
from lifecycle.selection.memory import Workload
from lifecycle.store import Project, Store, StoreError
from lifecycle.tasks import load_tasks
from lifecycle.text import plural
from lifecycle.typed import dataclass_from
from lifecycle.versions import PromptVersion, list_versions


@dataclass(frozen=True)
class Overview:
    """A project's decisions and what follows from them."""

    project: Project
    scope: Scope
    cards: tuple[TaskCard, ...]
    model: ModelSpec | None
    workload: Workload
    advisor_input: AdvisorInput
    advice: Advice | None
    start: date
    overrides: dict
    plan: tuple[PlanRow, ...]
    versions: tuple[PromptVersion, ...] = ()
    eval_runs: tuple[EvalRun, ...] = ()
    finetunes: tuple[dict, ...] = ()  # fine-tune run summaries as stored (lineage, report)
    fit: PlanFit | None = None  # the plan against the scope's timeline and budget
    preferences: int = 0  # preference pairs judged on the Align page
    measurements: int = 0  # deployment variants measured on the Deploy page
    decisions: tuple[dict, ...] = ()  # gates' decisions (lifecycle/decisions.py), oldest first
    retrieval: tuple[dict, ...] = ()  # retrieval-quality measurements, one per collection


@dataclass(frozen=True)
class StageState:
    """One stage as every page shows it: does the scope need it, what is done, days planned."""

    need: str  # needed | if needed | not needed
    why: str
    progress: str  # "not started" until something is done on the stage's page
    days: int


def chosen_model(record: dict | None) -> ModelSpec | None:
    """The model a project chose: from the catalogue, by its config's shape, or by its size."""
    record = record or {}
    model_id = record.get("model_id")
    if not model_id or not isinstance(model_id, str):
        return None
    catalog = load_catalog()
    if model_id in catalog:
        return catalog[model_id]
    shaped = spec_from_shape(record.get("custom_shape"), model_id)
    if shaped:
        return shaped
    params = record.get("custom_params")
    return (
        custom_model(int(params), name=model_id) if isinstance(params, int) and params > 0 else None
    )


def overview(store: Store, project_id: str) -> Overview:
    """Read a project's records and derive cards, advice and plan."""
    project = store.get_project(project_id)
    if project is None:
        raise StoreError("This project no longer exists (it was deleted, maybe in another tab).")
    records = {r.kind: r.data for r in store.list_records(project_id)}
    tasks = load_tasks()
    scope = Scope.from_dict(records.get("scope"))
    cards = tuple(task_card(tasks[t], scope.answers) for t in scope.task_ids if t in tasks)
    model_rec = records.get("model") or {}
    model = chosen_model(model_rec)
    adv_in = linked_advisor(model_rec.get("advisor"), scope, advisor_size(model, cards))
    advice = None
    if model_rec.get("advisor"):
        try:
            advice = advise(adv_in)
        except (ValueError, ArithmeticError):  # impossible input: the model page says why
            advice = None
    plan_rec = records.get("plan") or {}
    start = start_date(plan_rec.get("start_date"))
    overrides = valid_overrides(plan_rec.get("overrides"))
    durations = derive_durations(
        scope,
        list(cards),
        advice.decision if advice else "",
        model.params_b if model else 0.0,
        advice.pretrain.calendar_days if advice else 0.0,
    )
    params_b = model.params_b if model else 0.0
    return Overview(
        project,
        scope,
        cards,
        model,
        dataclass_from(Workload, model_rec.get("workload")),
        adv_in,
        advice,
        start,
        overrides,
        tuple(schedule(durations, overrides, start)),
        tuple(list_versions(store, project_id)),
        tuple(list_eval_runs(store, project_id)),
        tuple(r.data for r in store.list_records(project_id, "finetune_run")),
        plan_fit(scope, cards, durations, overrides, start, advice, params_b),
        len(store.list_records(project_id, "preference")),
        len(store.list_records(project_id, "deploy_measurement")),
        decision_records(store, project_id),
        tuple(r.data for r in store.list_records(project_id, "rag_quality")),
    )


def decision_records(store: Store, project_id: str) -> tuple[dict, ...]:
    """The project's decision records with their keys, oldest first."""
    found = [{**r.data, "key": r.key} for r in store.list_records(project_id, "decision")]
    return tuple(sorted(found, key=lambda d: str(d.get("decided_at", ""))))


def current(decisions: list[dict] | tuple[dict, ...]) -> list[dict]:
    """The latest decision of each gate, in gate order (the ones a report leads with)."""
    latest = {d.get("gate"): d for d in decisions}  # oldest first: the newest stays
    return [latest[g] for g in GATES if g in latest]


def stage_decisions(ov: Overview) -> dict[str, list[dict]]:
    """Each stage's current decisions (the latest of each of its gates), oldest gate first."""
    found: dict[str, list[dict]] = {}
    for d in current(ov.decisions):
        found.setdefault(str(d.get("stage", "")), []).append(d)
    return found


def advisor_size(model: ModelSpec | None, cards: tuple[TaskCard, ...]) -> float:
    """The size the build-or-reuse advice is for: the chosen model, else the scope's largest."""
    if model:
        return model.params_b
    return max((card.size_range_b[1] for card in cards), default=1.0)


def linked_advisor(saved: dict | None, scope: Scope, params_b: float) -> AdvisorInput:
    """The advisor's inputs: budget and time come from the scope (one input, not two)."""
    base = dataclass_from(AdvisorInput, saved)
    budget = min(scope.answers.budget_usd, AdvisorInput.LIMITS["budget_usd"][1])
    fields = {"params_b": params_b, "budget_usd": budget}
    return AdvisorInput(**{**base.__dict__, **fields, "time_weeks": scope.answers.timeline_weeks})


def stage_states(ov: Overview) -> dict[str, StageState]:
    """Every stage's need (from the scope), progress (from the records) and planned days."""
    needs = stage_needs(ov.scope, ov.cards)
    progress = stage_status(ov)
    days = {r.stage: r.days for r in ov.plan}
    return {
        stage: StageState(need.need, need.why, progress[stage], days[stage])
        for stage, need in needs.items()
    }


def stage_status(ov: Overview) -> dict[str, str]:
    """One line per stage saying what the project has done there so far ("not started")."""
    tasks = load_tasks()
    status = {r.stage: "not started" for r in ov.plan}
    if ov.scope.primary_task in tasks:
        extra = len(ov.scope.task_ids) - 1
        status["scope"] = tasks[ov.scope.primary_task].name + (f" (+{extra} more)" if extra else "")
    if ov.model:
        status["model_selection"] = ov.model.name
    adapt = []
    if ov.versions:
        adapt.append(plural(len(ov.versions), "prompt version"))
    if ov.finetunes:
        tuned = [f for f in ov.finetunes if f.get("state") == "completed"]
        adapt.append(f"{len(tuned)}/{len(ov.finetunes)} fine-tunes done")
    if adapt:
        status["adapt"] = "; ".join(adapt)
    if ov.preferences:
        status["align"] = f"{ov.preferences} preference pairs judged"
    compared = best_like_for_like(list(ov.eval_runs))  # runs on the same examples only
    if compared:
        best, peers = compared
        key = primary_key(best.metrics)
        status["evaluate"] = (
            f"{plural(len(ov.eval_runs), 'run')}; best of {len(peers)} on {best.set_name}: "
            f"{best.candidate.label}, {display_name(key)} {best.scores[key]:.3f}"
        )
    if ov.measurements:
        status["deploy"] = f"{plural(ov.measurements, 'variant')} measured"
    if ov.retrieval:
        status["infrastructure"] = "retrieval measured: " + "; ".join(
            _hit_rate(r) for r in ov.retrieval
        )
    for stage, taken in stage_decisions(ov).items():
        if stage in status:
            lines = [_decided(d) for d in taken]
            done = status[stage] != "not started"
            status[stage] = "; ".join([status[stage], *lines] if done else lines)
    return status


def _decided(decision: dict) -> str:
    """'decided: Deploy int8', or 'decided (overridden): ...' when the proposal was overridden."""
    mark = "decided (overridden)" if decision.get("overridden") else "decided"
    return f"{mark}: {decision.get('what', '')}"


def _hit_rate(quality: dict) -> str:
    """'Policies: hit@4 0.75 on 20 questions' from a retrieval-quality record."""
    ranks = [r for r in quality.get("ranks") or [] if isinstance(r, int)]
    k = int(quality.get("k") or 0)
    hits = sum(1 for r in ranks if 0 < r <= k)
    rate = f"{hits / len(ranks):.2f}" if ranks else "n/a"
    name = quality.get("label") or quality.get("collection") or "a collection"
    return f"{name}: hit@{k} {rate} on {plural(len(ranks), 'question')}"
