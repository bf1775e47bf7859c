"""Run status that is true: timings, stops, force stops, resumes, logs, checkpoints, reaping."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from transformers import TrainerCallback

from lifecycle.finetune import jobs
from lifecycle.finetune.runs import (
    STOP_FILE,
    RunStatus,
    checkpoint_ref,
    checkpoints,
    read_run,
    read_status,
    samples,
    write_status,
)
from lifecycle.finetune.timing import eta_text, resume_text
from lifecycle.finetune.train import train
from lifecycle.models import GenParams, generate, load_model
from lifecycle.store import Store
from tests.core.test_finetune_jobs import config, new_run, wait


@pytest.fixture
def store(isolated_home):
    s = Store(isolated_home / "lifecycle.sqlite")
    s.create_project("Demo", project_id="p1")
    return s


SLOW_EVAL_S = 1.0  # per validation batch: a validation pass far slower than a tiny step


class SlowValidation(TrainerCallback):
    """Every validation batch takes a while, as a real model's validation pass does; the
    optimiser steps are timed here too, to compare with what the run reports."""

    def __init__(self):
        self.steps, self.started = 0.0, 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += time.perf_counter() - self.started

    def on_prediction_step(self, args, state, control, **kwargs):
        time.sleep(SLOW_EVAL_S)


class CrashAt(TrainerCallback):
    """Kill the training at a step, as a machine running out of memory would."""

    def __init__(self, step: int):
        self.step = step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.global_step == self.step and "loss" in (logs or {}):
            raise MemoryError("simulated crash")  # after the step's loss row was written


@pytest.mark.slow
def test_seconds_a_step_leave_validation_out_and_the_metric_is_logged(store, tiny_causal):
    run = new_run(store, config(tiny_causal, max_steps=6, eval_every=2, save_every=6))
    timer = SlowValidation()
    assert train(read_run(run.folder), (timer,)) == "completed"
    s = read_status(run.folder)
    assert s.evals == 3 and s.eval_seconds >= 3 * SLOW_EVAL_S
    # Before, a step's seconds included every validation pass (3 s more here).
    assert s.train_seconds == pytest.approx(timer.steps, abs=SLOW_EVAL_S)
    assert s.step_seconds == pytest.approx(timer.steps / 6, abs=SLOW_EVAL_S / 6)
    metric = [m for m in read_run(run.folder).metrics if "val_score" in m]
    assert [m["step"] for m in metric] == [0, 2, 4, 6]
    assert {m["val_metric"] for m in metric} == {"rougeL"} and metric[0]["val_examples"] == 2
    assert all(0.0 <= m["val_score"] <= 1.0 for m in metric)


def test_a_resume_redoes_steps_without_duplicate_rows_and_says_from_where(store, tiny_causal):
    run = new_run(store, config(tiny_causal, max_steps=8, eval_every=4, save_every=2))
    with pytest.raises(MemoryError):
        train(read_run(run.folder), (CrashAt(5),))
    crashed = read_status(run.folder)
    crashed.state, crashed.resume = "interrupted", True
    write_status(run.folder, crashed)
    assert resume_text(read_run(run.folder)) == (
        "A resume starts from checkpoint-4 (step 4 of 8) and redoes 1 step."
    )
    # An earlier checkpoint may be chosen: the later ones belong to the abandoned path.
    chosen = read_run(run.folder)
    assert resume_text(chosen, "checkpoint-2") == (
        "A resume starts from checkpoint-2 (step 2 of 8) and redoes 3 steps; "
        "checkpoint-4 after it is removed."
    )
    crashed.resume_from = "checkpoint-2"
    write_status(run.folder, crashed)
    assert train(read_run(run.folder)) == "completed"
    done = read_run(run.folder)
    losses = [m["step"] for m in done.metrics if "loss" in m]
    assert losses == list(range(1, 9))  # each step logged once, redone steps included
    assert [m["step"] for m in done.metrics if "eval_loss" in m] == [4, 8]
    assert done.status.started_from == 2 and done.status.redone == 3
    ids = [(r["step"], r["id"]) for r in samples(run.folder)]
    assert len(ids) == len(set(ids))


def test_stop_during_the_first_samples_ends_without_a_step(store, tiny_causal):
    run = new_run(store, config(tiny_causal, max_steps=6))
    (run.folder / STOP_FILE).touch()  # pressed while the untouched model's samples run
    assert train(read_run(run.folder)) == "stopped"
    s = read_status(run.folder)
    assert s.step == 0 and not checkpoints(run.folder) and samples(run.folder) == []
    (run.folder / STOP_FILE).unlink()
    s.resume = True
    write_status(run.folder, s)
    assert train(read_run(run.folder)) == "completed"
    assert [r["step"] for r in samples(run.folder)].count(0) == 2  # drawn once, not twice


def test_every_checkpoint_loads_on_its_own(store, tiny_causal):
    run = new_run(store, config(tiny_causal, max_steps=4, save_every=2, keep_checkpoints=0))
    assert train(read_run(run.folder)) == "completed"
    assert list(checkpoints(run.folder)) == [2, 4]
    lm = load_model(checkpoint_ref(read_run(run.folder), 2))
    assert lm.kind == "adapter"
    messages = [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]
    assert generate(lm, messages, GenParams(max_new_tokens=2)).completion_tokens >= 1


def _ended(pid: int) -> bool:
    """Gone, or a zombie whose every thread has ended (waiting for its parent to reap it)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return True
    status = dict(line.split(":", 1) for line in lines)
    return status["State"].strip().startswith("Z") and status["Threads"].strip() == "1"


@pytest.mark.slow
def test_force_stop_is_reported_as_such_and_a_finished_worker_is_reaped(store, tiny_causal):
    cfg = config(tiny_causal, max_steps=4000, eval_every=4000, save_every=3, samples=0)
    run = jobs.submit(store, new_run(store, cfg))
    end = time.monotonic() + 900
    while read_status(run.folder).step < 4 and time.monotonic() < end:
        time.sleep(0.1)
    killed = jobs.kill(read_run(run.folder), store)
    assert killed.status.state == "stopped", killed.status
    assert killed.status.note.startswith(f"Force-stopped by you at step {killed.status.step}")
    assert "killed or out of memory" not in killed.status.error + killed.status.note
    assert jobs.current_status(store, killed).status.state == "stopped"
    assert not Path(f"/proc/{run.status.pid}").exists()  # ended and reaped

    short = jobs.submit(store, new_run(store, config(tiny_causal, max_steps=2, samples=0)))
    wait(short, ("completed",))
    end = time.monotonic() + 120
    while not _ended(short.status.pid):
        assert time.monotonic() < end, "the finished worker never exited"
        time.sleep(0.1)
    jobs.current_status(store, read_run(short.folder))  # what every page refresh calls
    assert not Path(f"/proc/{short.status.pid}").exists()  # reaped, not a zombie


def test_what_the_progress_line_promises(store, tiny_causal):
    run = new_run(store, config(tiny_causal, max_steps=10, eval_every=5))
    base = dict(state="running", step=4, total_steps=10, step_seconds=2.0, attempts=1)
    status = RunStatus(**base, eval_seconds=60.0, evals=1, phase="training")
    run.status = status
    # 6 steps at 2 s plus 2 evaluations (at 5 and 10) at 60 s each.
    assert eta_text(run) == "2.0 s a step · about 2.2 min left"
    run.status = RunStatus(**{**base, "step": 10}, eval_seconds=60.0, evals=1, phase="evaluating")
    assert eta_text(run) == "final evaluation (the last took 60 s)"
    run.status = RunStatus(**{**base, "state": "interrupted"}, phase="training")
    assert eta_text(run) == ""  # nothing left to promise for a run that is not running
    run.status = RunStatus(state="running", phase="samples", total_steps=10)
    assert eta_text(run) == "samples of the untouched model"
