"""Job control: one training process at a time, a queue, stop, resume, and crash detection.

A job is `python -m lifecycle.finetune.worker <run folder>` in its own session, so closing the
tab, rerunning the page or restarting the app never kills it; the page re-attaches by reading
the run folder. A multi-process job is torchrun starting that worker once per rank. A lock file
makes "start the next queued job" safe between app and workers.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lifecycle.atomic import write_text_atomic
from lifecycle.config import ROOT, data_home
from lifecycle.finetune.distributed import RANKS, launch_command, launch_env, run_processes
from lifecycle.finetune.runs import (
    ACTIVE,
    RESUMABLE,
    STOP_AT_FILE,
    STOP_FILE,
    Run,
    checkpoints,
    latest_checkpoint,
    list_runs,
    log_tail,
    read_run,
    read_status,
    runs_root,
    sync_record,
    write_status,
)
from lifecycle.store import Store, now

MAX_PARALLEL = int(os.environ.get("LIFECYCLE_MAX_JOBS", "1"))  # CPUs are few: one job at a time
KILL_WAIT_S = 10.0  # a SIGKILLed process is gone within moments; rank processes may take longer
_children: list[subprocess.Popen] = []  # workers this process started, reaped once they end


class JobError(RuntimeError):
    """A job action that cannot be done now; the message says why."""


@contextmanager
def _queue_lock() -> Iterator[None]:
    """Serialise queue decisions between the app's sessions and finishing workers."""
    root = runs_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".queue.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def reap() -> None:
    """Collect the exit status of every worker this process started that has ended.

    An ended child stays a zombie in the process table until its parent waits for it, and a
    run that completed is never polled for liveness again: so every status read reaps.
    """
    _children[:] = [proc for proc in _children if proc.poll() is None]


def alive(pid: int, run_id: str) -> bool:
    """True when `pid` is still this run's worker (not a reused pid of another program)."""
    if pid <= 0:
        return False
    reap()
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            text = cmdline.read_bytes()
        except OSError:
            return False
        # A zombie (exited, not yet reaped) has an empty command line: it is gone.
        return run_id.encode() in text
    return True


def refresh(store: Store, run: Run) -> Run:
    """Mark a run whose worker vanished as interrupted (resumable from its last checkpoint)."""
    s = run.status
    if s.state in ("running", "stopping") and not alive(s.pid, run.id):
        s.state, s.updated_at = "interrupted", now()
        s.error = "The training process ended without reporting (killed or out of memory)."
        s.log, s.resume, s.phase = log_tail(run.folder), True, ""
        write_status(run.folder, s)
        sync_record(store, run)
    return run


def active_runs(store: Store) -> list[Run]:
    """Runs of every project that are queued or running, after crash detection."""
    return [r for r in (refresh(store, r) for r in list_runs()) if r.status.state in ACTIVE]


def dispatch(store: Store) -> Run | None:
    """Start the oldest queued run when fewer than MAX_PARALLEL are running."""
    with _queue_lock():
        runs = active_runs(store)
        running = [r for r in runs if r.status.state in ("running", "stopping")]
        queued = sorted(
            (r for r in runs if r.status.state == "queued"), key=lambda r: r.status.created_at
        )
        if len(running) >= MAX_PARALLEL or not queued:
            return None
        return _spawn(store, queued[0])


def _spawn(store: Store, run: Run) -> Run:
    """Start the worker process for a queued run (its own session: it outlives the app)."""
    (run.folder / STOP_FILE).unlink(missing_ok=True)
    for report in (run.folder / RANKS).glob("rank*.json"):
        report.unlink()  # the last attempt's weights say nothing about this one
    n = run.config.processes
    env = {**launch_env(dict(os.environ), n), "LIFECYCLE_HOME": str(data_home())}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    argv = [sys.executable, "-m", "lifecycle.finetune.worker", str(run.folder)]
    with (run.folder / "log.txt").open("a", encoding="utf-8") as log:
        log.write(f"--- start {now()} ---\n")
        log.flush()
        proc = subprocess.Popen(
            launch_command(run.folder, n) if n > 1 else argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _children.append(proc)
    s = run.status
    s.state, s.pid, s.started_at, s.updated_at, s.error = "running", proc.pid, now(), now(), ""
    s.note, s.log, s.phase = "", "", "loading"
    s.ranks_equal, s.ranks_note = None, ""
    write_status(run.folder, s)
    sync_record(store, run)
    return read_run(run.folder)


def submit(store: Store, run: Run) -> Run:
    """Queue a created run and start it at once if the machine is free."""
    dispatch(store)
    return read_run(run.folder)


def stop(store: Store, run: Run) -> Run:
    """Ask a running job to save a checkpoint and stop; a queued one is just taken off."""
    run = refresh(store, run)
    s = run.status
    if s.state == "queued":
        s.state, s.updated_at = "stopped", now()
        write_status(run.folder, s)
        sync_record(store, run)
    elif s.state == "running":
        (run.folder / STOP_FILE).touch()
        s.state, s.updated_at = "stopping", now()
        write_status(run.folder, s)
    return read_run(run.folder)


def stop_at(run: Run, step: int) -> None:
    """Have the job stop after `step` as Stop would (a checkpoint, then stopped): asked before
    it starts, the stop lands on a known step (tests, scripts)."""
    write_text_atomic(run.folder / STOP_AT_FILE, str(step))


def resume(store: Store, run: Run, checkpoint: str = "") -> Run:
    """Queue a stopped, interrupted or failed run again, from a checkpoint (the latest by default).

    `checkpoint` names one of the run's checkpoint folders (`checkpoint-40`); the steps after
    it are trained again, and any later checkpoint is dropped when the attempt starts.
    """
    run = refresh(store, run)
    s = run.status
    if s.state not in RESUMABLE:
        raise JobError(
            f"Only a stopped, interrupted or failed run can resume (this one is {s.state})."
        )
    if checkpoint and checkpoint not in {p.name for p in checkpoints(run.folder).values()}:
        raise JobError(f"The run has no complete {checkpoint}: pick one of its checkpoints.")
    s.state, s.updated_at, s.resume = "queued", now(), latest_checkpoint(run.folder) is not None
    s.resume_from, s.error, s.note, s.log = checkpoint, "", "", ""
    write_status(run.folder, s)
    sync_record(store, run)
    dispatch(store)
    return read_run(run.folder)


def kill(run: Run, store: Store | None = None) -> Run:
    """Hard-stop a job and every rank of it (no checkpoint), then record it as force-stopped."""
    pids = set(run_processes(run.folder))
    if alive(run.status.pid, run.id):
        pids.add(run.status.pid)
    # torchrun starts each rank in a session of its own: killing its group leaves them running.
    for pid in pids:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue  # already gone
    deadline = time.monotonic() + KILL_WAIT_S
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    reap()
    s = read_status(run.folder)
    if s.state in ("running", "stopping"):  # not a job that ended on its own meanwhile
        start = latest_checkpoint(run.folder)
        s.state, s.phase, s.updated_at, s.resume = "stopped", "", now(), start is not None
        s.note = force_stop_note(s.step, start)
        write_status(run.folder, s)
        if store is not None:
            sync_record(store, read_run(run.folder))
    return read_run(run.folder)


def force_stop_note(step: int, checkpoint: Path | None) -> str:
    """What a force stop left: the step it reached and where a resume starts."""
    text = f"Force-stopped by you at step {step}, without saving a checkpoint. "
    if checkpoint is None:
        return text + "A resume starts from the beginning."
    done = int(checkpoint.name.split("-")[-1])
    return text + f"A resume starts from {checkpoint.name} and redoes {max(0, step - done)} steps."


def _running(pid: int) -> bool:
    """True until `pid` has fully ended (reaped, or a zombie waiting for another parent)."""
    reap()
    try:
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
    except (OSError, ValueError):
        return False
    # A killed process is a zombie leader while its other threads still unwind: not ended yet.
    zombie = status.get("State", "").strip().startswith("Z")
    return not (zombie and status.get("Threads", "").strip() == "1")


def queue_position(store: Store, run: Run) -> int:
    """1 for the next queued run, 2 for the one after, ...; 0 when not queued."""
    queued = sorted(
        (r for r in active_runs(store) if r.status.state == "queued"),
        key=lambda r: r.status.created_at,
    )
    ids = [r.id for r in queued]
    return ids.index(run.id) + 1 if run.id in ids else 0


def current_status(store: Store, run: Run) -> Run:
    """Re-read a run from its folder, with crash detection (the page's refresh)."""
    reap()
    run = refresh(store, read_run(run.folder))
    if run.status.state not in ACTIVE:
        dispatch(store)  # a finished or crashed job frees the machine for the next in the queue
    return run


def read_state(folder: Path) -> str:
    """Just the state word (cheap, for polling)."""
    return read_status(folder).state
