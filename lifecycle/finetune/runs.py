"""Fine-tune run folders: config, data, status, metrics, samples, log, checkpoints, artefacts.

The folder is the source of truth for a live job (the worker process writes it); the project
store keeps a summary record per run for lineage, the report and exports.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.atomic import write_text_atomic
from lifecycle.config import data_home
from lifecycle.evaluation.datasets import Example
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.distributed import check_processes
from lifecycle.models.sources import RUN_PREFIX
from lifecycle.store import Store, now
from lifecycle.transfer import write_json_atomic

RUN = "finetune_run"  # record kind in the project store
ACTIVE = ("queued", "running", "stopping")
RESUMABLE = ("stopped", "interrupted", "failed")
LOG_TAIL = 20  # log lines shown when a job fails
STOP_FILE = "stop"  # a Stop request: the worker checks for it after every step
STOP_AT_FILE = "stop_at"  # a step number: the worker stops after it, as at a Stop request


@dataclass
class RunStatus:
    """What the worker last reported (status.json)."""

    state: str = (
        "queued"  # queued | running | stopping | stopped | completed | failed | interrupted
    )
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    pid: int = 0
    created_at: str = ""
    started_at: str = ""  # of the current attempt
    updated_at: str = ""
    finished_at: str = ""
    train_seconds: float = 0.0  # optimiser steps only, summed over attempts (redone ones too)
    eval_seconds: float = 0.0  # evaluations: validation loss, samples and metric, summed
    sample_seconds: float = 0.0  # the untouched model's samples at step 0
    step_seconds: float = 0.0  # mean seconds of one optimiser step in the latest attempt
    evals: int = 0  # evaluations done (their mean time predicts the ones left)
    phase: str = ""  # what the worker does now: loading | samples | training | evaluating | saving
    train_loss: float | None = None
    eval_loss: float | None = None
    trainable: int = 0
    total_params: int = 0
    attempts: int = 0
    resume: bool = False  # the next start continues from a checkpoint
    resume_from: str = ""  # that checkpoint's folder name, chosen by the user ("" = the latest)
    started_from: int = 0  # step of the checkpoint the latest attempt started from
    redone: int = 0  # steps done before that the latest attempt does again
    error: str = ""
    note: str = ""  # how the run ended when that was no error (a force stop)
    log: str = ""  # the last lines of the log, kept when the job failed or vanished
    processes: int = 1  # ranks that trained the latest attempt (a copied job may use others)
    ranks_equal: bool | None = None  # multi-process: every rank ended with identical weights
    ranks_note: str = ""  # that comparison in a sentence (shown with the run)

    @classmethod
    def from_dict(cls, data: dict) -> RunStatus:
        """From status.json (unknown keys ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Run:
    """A run as the registry shows it."""

    id: str
    project_id: str
    config: FinetuneConfig
    dataset: dict  # name, hash, train, validation
    status: RunStatus
    folder: Path
    metrics: list[dict] = field(default_factory=list)

    @property
    def final_folder(self) -> Path:
        """The trained artefact (adapter or full model) once the run completed."""
        return self.folder / "final"

    @property
    def processes(self) -> int:
        """Ranks that trained the latest attempt; the configured count before the first."""
        return self.status.processes if self.status.attempts else self.config.processes

    @property
    def ref(self) -> str:
        """Model reference the loader understands (base + adapter, or the full model)."""
        return f"{RUN_PREFIX}{self.id}"


def runs_root() -> Path:
    """Where every run folder lives."""
    return data_home() / "runs"


def run_folder(run_id: str) -> Path:
    """A run's folder (ids are generated here, never typed by users)."""
    return runs_root() / run_id


def create_run(
    store: Store,
    project_id: str,
    config: FinetuneConfig,
    train: list[Example],
    validation: list[Example],
    dataset: dict,
) -> Run:
    """Write the run folder (config, data, a queued status) and its record in the project."""
    config.check()
    check_processes(config.processes)  # on this machine, now: the config itself stays portable
    run_id = f"ft-{now()[:10]}-{uuid.uuid4().hex[:6]}"
    return write_run(store, project_id, run_id, config, train, validation, dataset)


def write_run(
    store: Store,
    project_id: str,
    run_id: str,
    config: FinetuneConfig,
    train: list[Example],
    validation: list[Example],
    dataset: dict,
) -> Run:
    """A queued run's folder (data/*.jsonl, run.json, status.json, in that order: a run is
    queued only once its data is there) and its record; fine-tune and DPO runs alike."""
    folder = run_folder(run_id)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("validation", validation)):
        lines = [json.dumps({"id": e.id, "input": e.input, "output": e.output}) for e in rows]
        (folder / "data" / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset = {**dataset, "train": len(train), "validation": len(validation)}
    meta = {"id": run_id, "project_id": project_id, "config": config.to_dict(), "dataset": dataset}
    write_json_atomic(folder / "run.json", meta)
    write_status(folder, RunStatus(created_at=now(), updated_at=now()))
    run = read_run(folder)
    sync_record(store, run)
    return run


def read_examples(folder: Path, split: str) -> list[Example]:
    """The examples a run trains (or validates) on, as written at launch."""
    path = folder / "data" / f"{split}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Example(r["id"], r["input"], r["output"]) for r in rows]


def write_status(folder: Path, status: RunStatus) -> None:
    """Replace status.json atomically (readers never see half a file)."""
    write_json_atomic(folder / "status.json", status.__dict__)


def read_status(folder: Path) -> RunStatus:
    """The last status; a missing or torn file reads as a failed run, never a crash."""
    try:
        return RunStatus.from_dict(json.loads((folder / "status.json").read_text()))
    except (OSError, ValueError, TypeError):
        return RunStatus(state="failed", error="The run's status file is missing or damaged.")


def stop_requested(folder: Path, step: int) -> bool:
    """A Stop request, or the step named in the run's stop_at file reached."""
    if (folder / STOP_FILE).exists():
        return True
    try:
        return step >= int((folder / STOP_AT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def append_jsonl(path: Path, row: dict) -> None:
    """Append one JSON line (metrics, samples): small appends keep earlier lines intact."""
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line of a JSONL file (a line being written is skipped)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def read_run(folder: Path) -> Run:
    """A run from its folder."""
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return Run(
        meta["id"],
        meta["project_id"],
        FinetuneConfig.from_dict(meta["config"]),
        meta.get("dataset", {}),
        read_status(folder),
        folder,
        read_jsonl(folder / "metrics.jsonl"),
    )


def list_runs(project_id: str | None = None) -> list[Run]:
    """Every run (of a project), newest first; unreadable folders are skipped."""
    runs = []
    root = runs_root()
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        try:
            run = read_run(folder)
        except (OSError, ValueError, KeyError):
            continue
        if project_id is None or run.project_id == project_id:
            runs.append(run)
    return sorted(runs, key=lambda r: r.status.created_at, reverse=True)


def samples(folder: Path) -> list[dict]:
    """Sample generations logged during training (step, id, input, output)."""
    return read_jsonl(folder / "samples.jsonl")


def log_tail(folder: Path, lines: int = LOG_TAIL) -> str:
    """The last lines of the job's log (shown when it fails)."""
    path = folder / "log.txt"
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def checkpoints(folder: Path) -> dict[int, Path]:
    """The complete checkpoint folders of a run by step, oldest first."""
    found = {}
    for path in (folder / "checkpoints").glob("checkpoint-*"):
        step = path.name.split("-")[-1]
        if step.isdigit() and _complete(path):
            found[int(step)] = path
    return dict(sorted(found.items()))


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint folder, if any."""
    found = checkpoints(folder)
    return found[max(found)] if found else None


def resume_point(folder: Path, status: RunStatus) -> Path | None:
    """The checkpoint the next attempt starts from: the chosen one, else the latest."""
    if not status.resume:
        return None
    found = checkpoints(folder)
    chosen = [p for p in found.values() if p.name == status.resume_from]
    return chosen[0] if chosen else latest_checkpoint(folder)


def checkpoint_ref(run: Run, step: int) -> str:
    """The loader's reference of one checkpoint of a run (tried and evaluated like a model)."""
    return f"{run.ref}/checkpoint-{step}"


def start_attempt(folder: Path) -> Path | None:
    """Before an attempt: its checkpoint; rows and checkpoints past it go, as those steps rerun.

    The steps after the checkpoint are trained again, so their metrics and samples would be
    logged twice, and a later checkpoint (after a resume from an earlier one) belongs to
    the abandoned path.
    """
    status = read_status(folder)
    start = resume_point(folder, status)
    step = int(start.name.split("-")[-1]) if start else 0
    for later, path in checkpoints(folder).items():
        if later > step:
            shutil.rmtree(path, ignore_errors=True)
    for name in ("metrics.jsonl", "samples.jsonl"):
        rows = read_jsonl(folder / name)
        kept = [r for r in rows if start and r.get("step", 0) <= step]
        if len(kept) != len(rows):
            text = "".join(json.dumps(r) + "\n" for r in kept)
            write_text_atomic(folder / name, text, mode=0o644)
    status.redone, status.started_from = max(0, status.step - step), step
    status.step, status.resume_from = step, ""
    write_status(folder, status)
    return start


def _complete(checkpoint: Path) -> bool:
    # The trainer state is written last: a kill during saving leaves a checkpoint without it.
    return (checkpoint / "trainer_state.json").is_file()


def summary(run: Run) -> dict:
    """The record kept in the project store (lineage, report, export)."""
    s = run.status
    return {
        "id": run.id,
        "base_ref": run.config.base_ref,
        "method": run.config.method,
        "task_id": run.config.task_id,
        "config": run.config.to_dict(),
        "dataset": run.dataset,
        "state": s.state,
        "step": s.step,
        "total_steps": s.total_steps,
        "train_loss": s.train_loss,
        "eval_loss": s.eval_loss,
        "train_seconds": round(s.train_seconds, 1),
        "trainable": s.trainable,
        "processes": s.processes,
        "ranks_equal": s.ranks_equal,
        "created_at": s.created_at,
        "finished_at": s.finished_at,
    }


def sync_record(store: Store, run: Run) -> None:
    """Write the run's summary into its project (skipped when the project was deleted)."""
    if store.get_project(run.project_id) is None:
        return
    store.put_record(run.project_id, RUN, summary(run), run.id)


def delete_run(store: Store, run: Run) -> None:
    """Remove the folder and the record (the caller refuses active runs first)."""
    shutil.rmtree(run.folder, ignore_errors=True)
    if store.get_project(run.project_id) is not None:
        store.delete_record(run.project_id, RUN, run.id)
