"""Runs side by side: the settings that differ, and each run's evaluation scores."""

from __future__ import annotations

from lifecycle.evaluation.runs import list_eval_runs
from lifecycle.finetune.runs import Run
from lifecycle.store import Store

# Settings that say nothing about how a run learns, left out of the diff.
NOT_SETTINGS = ("extra",)


def settings_of(run: Run) -> dict[str, object]:
    """Everything that defines how a run learnt: base, data, method and hyper-parameters."""
    config = {k: v for k, v in run.config.to_dict().items() if k not in NOT_SETTINGS}
    config["target_modules"] = ", ".join(config["target_modules"]) or "(model default)"
    data = {
        "data": run.dataset.get("name", ""),
        "data hash": run.dataset.get("hash", ""),
        "train / validation": f"{run.dataset.get('train', 0)} / {run.dataset.get('validation', 0)}",
    }
    return {**data, **config, "processes used": run.processes}


def settings_diff(runs: list[Run]) -> list[dict[str, object]]:
    """One row per setting whose value is not the same in every run: {setting, run id: value}."""
    each = [settings_of(r) for r in runs]
    names = list(dict.fromkeys(k for s in each for k in s))
    rows: list[dict[str, object]] = []
    for name in names:
        values = [s.get(name, "") for s in each]
        if len({repr(v) for v in values}) > 1:
            rows.append({"setting": name, **{r.id: str(v) for r, v in zip(runs, values)}})
    return rows


def eval_scores(store: Store, project_id: str, runs: list[Run]) -> list[dict[str, object]]:
    """The finished evaluations of each run (final model or a checkpoint): one row per result."""
    refs = {r.ref: r.id for r in runs}
    rows = []
    for ev in list_eval_runs(store, project_id):
        ref = ev.candidate.model_ref
        run_id = refs.get(ref.split("/checkpoint-")[0])
        if ev.status != "done" or run_id is None:
            continue
        version = ref.split("/", 1)[1] if "/checkpoint-" in ref else "final"
        row = {"run": run_id, "version": version, "set": ev.set_name, "examples": ev.total}
        rows.append({**row, **{k: round(v, 4) for k, v in ev.scores.items()}})
    return sorted(rows, key=lambda r: (str(r["set"]), str(r["run"]), str(r["version"])))


def latest_metric(run: Run) -> tuple[str, float] | None:
    """The validation metric at the run's latest evaluation, e.g. ("rougeL", 0.41)."""
    rows = [m for m in run.metrics if "val_score" in m]
    return (rows[-1]["val_metric"], rows[-1]["val_score"]) if rows else None
