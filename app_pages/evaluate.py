"""Stage 5, Evaluate: score candidates offline, compare them with confidence, read examples."""

import streamlit as st

from components.evaluation.charts import shots_curve_chart
from components.evaluation.results import (
    charts,
    copy_table,
    delete_ui,
    examples_view,
    follow_new_runs,
    ratings_summary,
    runs_table,
    significance,
)
from components.evaluation.slices import SLICE_DEFAULTS, place_slices, slice_record, slice_widgets
from components.evaluation.ui import candidate_picker, run_ui, set_picker, width_ui
from components.guide.decisions import render_gates
from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.models.load import load_ui
from components.project import require_project
from components.records import save_record, sync_record
from components.resources import get_store
from components.state import Keys
from lifecycle.evaluation.runs import list_eval_runs, primary_key
from lifecycle.evaluation.shots import plateau_verdict, shots_curve
from lifecycle.glossary import display_name
from lifecycle.stages import guide_sections
from lifecycle.text import md_escape, plural

project = require_project()
store = get_store()
st.title("5 · Evaluate")
render_guide("evaluate")

evalset = set_picker(project.id)
st.caption(
    f"{plural(len(evalset.examples), 'example')} · task {evalset.task_id} · metrics "
    f"{', '.join(map(display_name, evalset.metrics))} · set hash {evalset.hash}"
)
# The slices are part of the project: leaving the page or restarting keeps them, so earlier
# runs stay comparable and a re-run evaluates the same examples.
saved_slices = sync_record(project.id, "evaluate", SLICE_DEFAULTS, slice_widgets)
set_id = st.session_state[Keys.EVAL_SHIPPED]
place_slices(saved_slices, project.id, set_id, len(evalset.examples))
limit = st.slider(
    "Examples to evaluate (a slice keeps CPU runs short)",
    1,
    max(len(evalset.examples), 2),
    key=Keys.EVAL_LIMIT,
    disabled=len(evalset.examples) < 2,
)
sliced = evalset.head(limit) if limit < len(evalset.examples) else evalset

run_tab, results_tab, examples_tab, shots_tab, bench_tab = st.tabs(
    ["Run", "Results", "Examples", "Shots curve", "Benchmarks"]
)
runs = list_eval_runs(store, project.id)
with run_tab:
    candidate = candidate_picker(project.id, evalset.task_id)
    width = width_ui()
    done = None
    if st.button("Evaluate this candidate", type="primary", icon=":material/play_arrow:"):
        done = run_ui(project.id, candidate, sliced, width=width)
    partial = [r for r in runs if r.status == "partial" and r.set_hash == sliced.hash]
    for run in partial:
        if st.button(
            f"Resume {md_escape(run.candidate.label)} ({run.done}/{run.total})",
            key=Keys.EVAL_RESUME + run.id,
        ):
            done = run_ui(project.id, run.candidate, sliced, resume=run, width=width)
    if done:
        st.success(
            f"{md_escape(done.candidate.label)}: "
            + ", ".join(f"{md_escape(display_name(k))} {v:.3f}" for k, v in done.scores.items())
        )
runs = list_eval_runs(store, project.id)
same_set = [r for r in runs if r.set_hash == sliced.hash and r.done]
by_id = {r.id: r for r in same_set}
follow_new_runs(list(by_id))
label = lambda i: f"{by_id[i].candidate.label} [{by_id[i].status}]"  # noqa: E731
with results_tab:
    if not runs:
        st.info("No evaluation yet: run a candidate in the Run tab.")
    else:
        runs_table(runs)
        picked = st.multiselect(
            "Compare on this set",
            list(by_id),
            format_func=label,
            key=Keys.EVAL_SELECTED,
        )
        if picked:
            charts([by_id[i] for i in picked])
            copy_table([by_id[i] for i in picked], sliced)
        if len(picked) >= 2:
            significance(by_id[picked[0]], by_id[picked[1]], sliced)
        ratings_summary(project.id, runs)
        delete_ui(project.id, runs)
with examples_tab:
    picked = st.session_state.get(Keys.EVAL_SELECTED) or list(by_id)[-2:]
    picked = [i for i in picked if i in by_id]
    if picked:
        examples_view(
            project.id, by_id[picked[0]], by_id[picked[1]] if len(picked) > 1 else None, sliced
        )
    else:
        st.info("Evaluate a candidate on this set to read its outputs here.")
with shots_tab:
    st.caption(
        "The same prompt with 0, 1, 2, 3 and 5 examples on a small slice: does adding "
        "examples still pay off, and how much of the context window do they use?"
    )
    n = st.slider(
        "Examples in the slice",
        1,
        max(len(evalset.examples), 2),
        key=Keys.EVAL_SHOTS_SLICE,
        disabled=len(evalset.examples) < 2,
    )
    base = candidate_picker(project.id, evalset.task_id, key=Keys.EVAL_SHOTS_PICKER)
    key = primary_key(evalset.metrics)
    if st.button("Run the shots curve", icon=":material/show_chart:"):
        lm = load_ui(base.model_ref)
        if lm:
            bar = st.progress(0.0, text="Shots curve")
            st.session_state[Keys.EVAL_SHOTS_POINTS] = shots_curve(
                store,
                project.id,
                lm,
                base,
                evalset.head(n),
                key,
                on_progress=lambda d, t: bar.progress(d / t, text=f"{d}/{t} generations"),
            )
    points = st.session_state.get(Keys.EVAL_SHOTS_POINTS)
    if points:
        st.plotly_chart(shots_curve_chart(points, key), width="stretch")
        st.info(plateau_verdict(points))
with bench_tab:
    st.markdown(guide_sections("evaluate").get("Going further", ""))
save_record(
    project.id, "evaluate", slice_record(saved_slices, set_id, len(evalset.examples)), slice_widgets
)

render_gates("evaluate")
render_next("evaluate")
