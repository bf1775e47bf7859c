"""What a run's progress line says: pace, time left, when a stop lands, where a resume starts.

Every figure comes from what the worker measured (status.json): seconds a step count optimiser
steps only, evaluations are timed apart, and nothing is promised for a run that is not running.
"""

from __future__ import annotations

from pathlib import Path

from lifecycle.finetune.runs import Run, RunStatus, checkpoints, latest_checkpoint


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def evals_left(run: Run) -> int:
    """Evaluations still to come: every eval_every steps, and one at the end."""
    s, every = run.status, max(1, run.config.eval_every)
    if not run.dataset.get("validation") or s.step >= s.total_steps:
        return 0
    left = s.total_steps // every - s.step // every
    return left + (1 if s.total_steps % every else 0)


def eval_pace(status: RunStatus) -> float:
    """Mean seconds of one evaluation so far (validation loss, samples, metric); 0 if none."""
    return status.eval_seconds / status.evals if status.evals else 0.0


def step_pace(status: RunStatus) -> float:
    """Seconds an optimiser step takes: this attempt's mean, else the whole run's."""
    if status.step_seconds:
        return status.step_seconds
    done = status.step - status.started_from
    return status.train_seconds / done if done > 0 and status.train_seconds else 0.0


def eta_text(run: Run) -> str:
    """'4.1 s a step · about 6.2 min left', or what the job does when no step pace applies."""
    s = run.status
    if s.state != "running":
        return ""  # a queued, stopped or interrupted run has no time left to promise
    if s.phase == "loading":
        return "loading the model"
    if s.phase == "samples" and s.step == 0:
        return "samples of the untouched model"
    pace = step_pace(s)
    if s.step >= s.total_steps > 0:
        last = eval_pace(s)
        if s.phase in ("evaluating", "samples"):
            return "final evaluation" + (f" (the last took {_minutes(last)})" if last else "")
        return "saving the trained model"
    if not pace:
        return ""
    left = (s.total_steps - s.step) * pace + evals_left(run) * eval_pace(s)
    text = f"{pace:.1f} s a step · about {_minutes(left)} left"
    return text + (" · evaluating" if s.phase in ("evaluating", "samples") else "")


def stop_text(run: Run) -> str:
    """When a requested stop takes effect, from what the worker is doing."""
    s = run.status
    if s.phase == "loading":
        return "Stopping once the model has loaded: nothing is trained yet."
    if s.phase == "samples" and s.step == 0:
        return (
            "Stopping after the sample being generated (samples of the untouched model take a "
            "while each): no step has run, so there is no checkpoint to save."
        )
    if s.phase in ("evaluating", "samples"):
        return "Stopping after this evaluation and one more step, then saving a checkpoint."
    pace = step_pace(s)
    within = f" (about {_minutes(pace)} a step)" if pace else ""
    return f"Stopping at the end of the current step{within}, then saving a checkpoint."


def resume_text(run: Run, checkpoint: str = "") -> str:
    """Which checkpoint a resume starts from and how many finished steps it trains again."""
    found = checkpoints(run.folder)
    chosen = next((p for p in found.values() if p.name == checkpoint), None)
    start: Path | None = chosen or latest_checkpoint(run.folder)
    reached = run.status.step
    if start is None:
        return f"No checkpoint yet: a resume starts from the beginning and redoes {reached} steps."
    step = int(start.name.split("-")[-1])
    redo = max(0, reached - step)
    later = [s for s in found if s > step]
    text = f"A resume starts from {start.name} (step {step} of {run.status.total_steps})"
    text += f" and redoes {redo} step{'s' if redo != 1 else ''}" if redo else " and redoes none"
    if len(later) == 1:
        text += f"; checkpoint-{later[0]} after it is removed"
    elif later:
        text += f"; the {len(later)} checkpoints after it are removed"
    return text + "."


def resumed_text(run: Run) -> str:
    """After a resume: where the attempt started and what it trained again."""
    s = run.status
    if s.attempts < 2:
        return ""
    where = f"checkpoint-{s.started_from}" if s.started_from else "the beginning"
    return f"Attempt {s.attempts} started from {where}, redoing {s.redone} steps."
