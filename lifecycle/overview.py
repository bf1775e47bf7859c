"""Everything decided in a project, read from the store and derived once for all pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lifecycle.evaluation.runs import EvalRun, list_eval_runs, primary_key
from lifecycle.plan import PlanRow, derive_durations, schedule, start_date, valid_overrides
from lifecycle.scope import Scope, TaskCard, task_card
from lifecycle.selection.advisor import Advice, AdvisorInput, advise
from lifecycle.selection.catalog import ModelSpec, custom_model, load_catalog
from lifecycle.selection.memory import Workload
from lifecycle.store import Project, Store, StoreError
from lifecycle.tasks import load_tasks
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


def chosen_model(record: dict | None) -> ModelSpec | None:
    """The model a project chose: from the catalogue, or entered by hand with its size."""
    record = record or {}
    model_id = record.get("model_id")
    if not model_id:
        return None
    catalog = load_catalog()
    if model_id in catalog:
        return catalog[model_id]
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
    adv_in = dataclass_from(AdvisorInput, model_rec.get("advisor"))
    if model:
        adv_in = AdvisorInput(**{**adv_in.__dict__, "params_b": model.params_b})
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
    )


def stage_status(ov: Overview) -> dict[str, str]:
    """One line per stage saying what the project has decided there so far."""
    tasks = load_tasks()
    status = {r.stage: f"{r.days} days planned" if r.days else "skipped" for r in ov.plan}
    if ov.scope.primary_task in tasks:
        extra = len(ov.scope.task_ids) - 1
        status["scope"] = tasks[ov.scope.primary_task].name + (f" (+{extra} more)" if extra else "")
    else:
        status["scope"] = "not decided"
    status["model_selection"] = ov.model.name if ov.model else "not decided"
    if ov.cards:
        status["adapt"] = f"plan up to {ov.cards[0].top_rung}"
    if ov.versions:
        status["adapt"] = f"{len(ov.versions)} prompt versions; " + status["adapt"]
    tuned = [f for f in ov.finetunes if f.get("state") == "completed"]
    if ov.finetunes:
        status["adapt"] = f"{len(tuned)}/{len(ov.finetunes)} fine-tunes done; " + status["adapt"]
    done = [r for r in ov.eval_runs if r.scores]
    if done:
        best = max(done, key=lambda r: r.scores.get(primary_key(r.metrics), 0.0))
        key = primary_key(best.metrics)
        status["evaluate"] = (
            f"{len(done)} runs; best {best.candidate.label}: {key} {best.scores.get(key, 0.0):.3f}"
        )
    return status
