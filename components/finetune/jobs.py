"""Fine-tune jobs on the page: the live view (a fragment that re-attaches), registry, actions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.finetune.charts import loss_chart, metric_chart, metric_rows
from components.finetune.ui import render_commands
from components.project import flash
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.finetune.jobs import (
    JobError,
    current_status,
    kill,
    queue_position,
    refresh,
    resume,
    stop,
)
from lifecycle.finetune.runs import (
    ACTIVE,
    RESUMABLE,
    Run,
    checkpoints,
    delete_run,
    list_runs,
    read_run,
    samples,
)
from lifecycle.finetune.timing import eta_text, resume_text, resumed_text, step_pace, stop_text
from lifecycle.text import md_escape

REFRESH_S = 3  # live view refresh while a job is active
BADGE = {
    "queued": ("gray", ":material/schedule:"),
    "running": ("blue", ":material/directions_run:"),
    "stopping": ("orange", ":material/pause:"),
    "stopped": ("orange", ":material/pause_circle:"),
    "completed": ("green", ":material/check_circle:"),
    "failed": ("red", ":material/error:"),
    "interrupted": ("red", ":material/warning:"),
}


def live_view(run_id: str, registry_of: str = "") -> None:
    """The run's progress; refreshes itself every few seconds while the job is active.

    With a project id, the registry of that project's runs is drawn inside the same fragment,
    so its steps and states refresh with the progress bar instead of freezing at page load.
    """
    run = read_run_safe(run_id)
    if run is None:
        return
    every = REFRESH_S if run.status.state in ACTIVE else None
    st.fragment(_live, run_every=every)(run_id, run.status.state, registry_of)


def read_run_safe(run_id: str) -> Run | None:
    """The run, or None (with a note) when its folder is gone."""
    from lifecycle.finetune.runs import run_folder

    try:
        return current_status(get_store(), read_run(run_folder(run_id)))
    except (OSError, ValueError, KeyError):
        st.info("That run no longer exists (deleted, maybe in another tab).")
        return None


def _live(run_id: str, state_at_start: str, registry_of: str = "") -> None:
    run = read_run_safe(run_id)
    if run is None:
        return
    s = run.status
    if s.state != state_at_start:
        st.rerun(scope="app")  # the job changed state: redraw buttons, registry and try-it
    color, icon = BADGE.get(s.state, ("gray", ""))
    c = run.config
    st.markdown(
        f":{color}-badge[{icon} {md_escape(s.state)}] **{md_escape(run.id)}** · "
        f"{md_escape(c.method)} on "
        f"{md_escape(c.base_ref)} · {md_escape(run.dataset.get('name', ''))}"
        + (f" · {run.processes} processes" if run.processes > 1 else "")
    )
    total = max(s.total_steps, 1)
    label = " · ".join(
        t
        for t in (f"step {s.step}/{s.total_steps or '?'}", f"epoch {s.epoch:.2f}", eta_text(run))
        if t
    )
    if s.state == "queued":
        position = queue_position(get_store(), run)
        label = f"queued (position {position}): starts when the running job ends"
    st.progress(min(1.0, s.step / total), text=label)
    status_notes(run)
    if s.ranks_note:  # the DDP check: did every rank end with the same weights?
        (st.success if s.ranks_equal else st.warning)(s.ranks_note, icon=":material/lan:")
    charts(run)
    samples_table(run)
    actions(run)
    if registry_of:
        st.divider()
        store = get_store()  # crash detection only: the page's own rerun starts queued jobs
        registry_table([refresh(store, r) for r in list_runs(registry_of)])


def status_notes(run: Run) -> None:
    """How the run ended or where it restarted, its error, and its log as written."""
    s = run.status
    if s.note:
        st.info(s.note, icon=":material/info:")
    if s.error:
        show_error(s.error)
    if s.log:
        st.caption("Last lines of the job's log")
        st.code(s.log, language=None)  # as written: tracebacks need their line breaks
    if resumed_text(run) and s.state in ACTIVE + ("completed",):
        st.caption(resumed_text(run))


def charts(run: Run) -> None:
    """The loss curves, and the validation metric beside them once it was measured."""
    if not run.metrics:
        return
    key = f"{run.id}_{len(run.metrics)}"
    if not metric_rows(run):
        st.plotly_chart(loss_chart(run), width="stretch", key=Keys.FT_LOSS_CHART + key)
        return
    left, right = st.columns(2)
    left.plotly_chart(loss_chart(run), width="stretch", key=Keys.FT_LOSS_CHART + key)
    right.plotly_chart(metric_chart(run), width="stretch", key=Keys.FT_METRIC_CHART + key)


def samples_table(run: Run) -> None:
    """Outputs on fixed validation inputs, at step 0 and at the latest evaluation."""
    rows = samples(run.folder)
    if not rows:
        return
    steps = sorted({r["step"] for r in rows})
    first, last = steps[0], steps[-1]
    table = {}
    for r in rows:
        if r["step"] in (first, last):
            table.setdefault(r["id"], {})[f"step {r['step']}"] = r["output"]
    st.caption("Sample generations on fixed validation inputs (greedy)")
    st.dataframe(pd.DataFrame.from_dict(table, orient="index"), width="stretch")


def actions(run: Run) -> None:
    """Stop, resume (from a chosen checkpoint) or force-stop, depending on the state."""
    store, s = get_store(), run.status
    if s.state in ("running", "queued") and st.button(
        "Stop (saves a checkpoint)", key=Keys.FT_STOP + run.id, icon=":material/stop:"
    ):
        stop(store, run)
        st.rerun(scope="app")
    if s.state == "stopping":
        st.caption(stop_text(run))
        if st.button(
            "Force stop (no checkpoint)", key=Keys.FT_KILL + run.id, icon=":material/dangerous:"
        ):
            kill(run, store)
            st.rerun(scope="app")
    if s.state in RESUMABLE:
        resume_ui(run)


def resume_ui(run: Run) -> None:
    """Resume from the latest checkpoint or an earlier one, saying what will be redone."""
    found = [p.name for p in checkpoints(run.folder).values()][::-1]  # newest first
    start = ""
    if len(found) > 1:
        start = st.selectbox(
            "Resume from", found, key=Keys.FT_RESUME_FROM + run.id, help="Newest first."
        )
    st.caption(resume_text(run, start))
    if st.button(
        "Resume", key=Keys.FT_RESUME + run.id, icon=":material/play_arrow:", type="primary"
    ):
        try:
            resume(get_store(), run, start if start != (found or [""])[0] else "")
        except JobError as err:
            show_error(err)
            return
        st.rerun(scope="app")


def registry_table(runs: list[Run]) -> None:
    """Every run of the project with its settings, losses, duration and status."""
    rows = []
    for r in runs:
        s, c = r.status, r.config
        rows.append(
            {
                "run": r.id,
                "status": s.state,
                "base model": c.base_ref,
                "method": c.method + (f" r{c.lora_r}" if c.method != "full" else ""),
                "data": r.dataset.get("name", ""),
                "data hash": r.dataset.get("hash", ""),
                "steps": f"{s.step}/{s.total_steps}",
                "lr": c.learning_rate,
                "processes": r.processes,
                "batch": c.batch_size * c.grad_accum * r.processes,  # effective: every rank's
                "train loss": s.train_loss,
                "val loss": s.eval_loss,
                "s/step": round(step_pace(s), 1) or None,
                "minutes": round((s.train_seconds + s.eval_seconds + s.sample_seconds) / 60, 1),
                "created": s.created_at[:16].replace("T", " "),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def commands_ui(run: Run) -> None:
    """The exact torchrun and accelerate commands that train this run on its processes."""
    with st.expander("Run it elsewhere (multi-process)"):
        st.caption(
            "Copy the data folder to the other machine, then run one of these. Stop the run "
            "here first: the command resumes from its latest checkpoint and records the end."
        )
        render_commands(run.folder, run.processes)


def delete_ui(run: Run) -> None:
    """Delete a run (folder and record) after an explicit confirmation."""
    if run.status.state in ACTIVE:
        st.caption("Stop the run before deleting it.")
        return
    sure = st.checkbox(
        f"Yes, delete {md_escape(run.id)} and its files", key=f"{Keys.FT_DELETE}_{run.id}"
    )
    if st.button(
        "Delete run", disabled=not sure, key=Keys.FT_DELETE_RUN + run.id, icon=":material/delete:"
    ):
        delete_run(get_store(), run)
        st.session_state.pop(Keys.FT_RUN, None)
        flash(f"Deleted {md_escape(run.id)}.")
        st.rerun()
