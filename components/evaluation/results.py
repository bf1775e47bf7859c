"""Evaluation results: runs table, charts with intervals, significance, per-example view."""

from __future__ import annotations

import streamlit as st

from components.evaluation.charts import score_bars, score_distribution
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_warning
from lifecycle.evaluation.copying import MIN_RUN, copy_warning, copying, run_copying
from lifecycle.evaluation.datasets import EvalSet
from lifecycle.evaluation.runs import (
    EvalError,
    EvalRun,
    compare,
    delete_eval_run,
    primary_key,
    rate,
    ratings,
    unsupported,
)
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.glossary import display_name
from lifecycle.text import md_escape, plural, short_time


def follow_new_runs(run_ids: list[str]) -> None:
    """Compare the two newest runs by default, and again whenever a new run appears."""
    known = st.session_state.get(Keys.EVAL_KNOWN, [])
    chosen = [i for i in st.session_state.get(Keys.EVAL_SELECTED) or [] if i in run_ids]
    if not chosen or set(run_ids) - set(known):
        chosen = run_ids[-2:]
    st.session_state[Keys.EVAL_SELECTED] = chosen
    st.session_state[Keys.EVAL_KNOWN] = run_ids


def _lines(text: str) -> str:
    """User text for st.markdown with its line breaks kept (dialogue turns)."""
    return md_escape(text).replace("\n", "  \n")


def runs_table(runs: list[EvalRun]) -> None:
    """Every run with its set, progress and scores."""
    st.dataframe(
        [
            {
                "Candidate": r.candidate.label,
                "Model": r.candidate.model_ref,
                "Set": r.set_name,
                "Done": f"{r.done}/{r.total}",
                "Status": r.status,
                **{display_name(k): round(v, 3) for k, v in r.scores.items()},
                "Saved": short_time(r.updated_at),
            }
            for r in runs
        ],
        hide_index=True,
        width="stretch",
    )


def charts(selected: list[EvalRun]) -> None:
    """Grouped bars per metric with 95 % intervals, and the per-example distribution."""
    rows = [
        (
            r.candidate.label,
            display_name(key),
            bootstrap_interval(list(r.per_example[key].values())),
        )
        for r in selected
        for key in r.per_example
    ]
    st.plotly_chart(score_bars(rows), width="stretch")
    key = primary_key(selected[0].metrics)
    series = {r.candidate.label: list(r.per_example.get(key, {}).values()) for r in selected}
    st.plotly_chart(score_distribution(series, display_name(key)), width="stretch")


def copy_table(selected: list[EvalRun], evalset: EvalSet) -> None:
    """Beside the metric: how much of each run's output is pasted from the input."""
    inputs = {e.id: e.input for e in evalset.examples}
    rows = []
    for r in selected:
        key = primary_key(r.metrics)
        c = run_copying(r.predictions, inputs)
        rows.append(
            {
                "Candidate": r.candidate.label,
                display_name(key): round(r.scores.get(key, 0.0), 3),
                f"Copied from the input (runs of {MIN_RUN}+ words)": f"{c.copied:.0%}",
                "Compression (input words per output word)": round(c.compression, 1),
                "Mostly copied outputs": f"{c.copies}/{c.n}",
            }
        )
    st.dataframe(rows, hide_index=True, width="stretch")


def significance(a: EvalRun, b: EvalRun, evalset: EvalSet) -> None:
    """Paired bootstrap of B - A on the primary metric, in a sentence; warns of a copied lead."""
    key = primary_key(a.metrics)
    try:
        diff = compare(a, b, key)
    except EvalError as err:
        show_warning(err)
        return
    box = st.success if diff.significant else st.info
    a_name, b_name = md_escape(a.candidate.label), md_escape(b.candidate.label)
    box(diff.verdict(f"A ({a_name})", f"B ({b_name})", md_escape(display_name(key))))
    if diff.significant:
        inputs = {e.id: e.input for e in evalset.examples}
        shared = set(a.per_example.get(key, {})) & set(b.per_example.get(key, {}))
        sides = [(f"A ({a_name})", run_copying(a.predictions, inputs, shared))]
        sides.append((f"B ({b_name})", run_copying(b.predictions, inputs, shared)))
        (loser, lost), (winner, won) = sides if diff.mean > 0 else sides[::-1]
        warning = copy_warning(winner, loser, won, lost)
        if warning:
            st.warning(warning, icon=":material/content_copy:")


def _highlight(prediction: str, reference: str) -> str:
    """The prediction with words absent from the reference marked, for a quick eyeball."""
    ref = {w.strip(".,!?;:").lower() for w in reference.split()}
    out = []
    for word in prediction.split():
        text = md_escape(word)
        out.append(text if word.strip(".,!?;:").lower() in ref else f":orange[{text}]")
    return " ".join(out)


def examples_view(project_id: str, a: EvalRun, b: EvalRun | None, evalset: EvalSet) -> None:
    """Input, reference and outputs side by side, sortable by score difference, with ratings."""
    key = primary_key(a.metrics)
    name = display_name(key)  # column labels: "A ROUGE-L", not "A rougeL"
    rows = []
    for ex in evalset.examples:
        if ex.id not in a.predictions:
            continue
        row = {
            "id": ex.id,
            "input": ex.input,
            "reference": ex.output,
            "A": a.predictions[ex.id]["prediction"],
            f"A {name}": a.per_example.get(key, {}).get(ex.id),  # an imported run may lack it
        }
        if b and ex.id in b.predictions:
            row.update(
                {
                    "B": b.predictions[ex.id]["prediction"],
                    f"B {name}": b.per_example.get(key, {}).get(ex.id),
                }
            )
            row["B - A"] = round((row[f"B {name}"] or 0) - (row[f"A {name}"] or 0), 3)
        rows.append(row)
    if not rows:
        st.info("No example predicted yet.")
        return
    st.dataframe(
        sorted(rows, key=lambda r: r.get("B - A", 0)), hide_index=True, width="stretch", height=280
    )
    ids = [r["id"] for r in rows]
    pick = st.selectbox("Look at one example", ids, key=Keys.EVAL_EXAMPLE)
    row = next(r for r in rows if r["id"] == pick)
    st.markdown(f"**Input**\n\n{_lines(row['input'])}")
    st.markdown(f"**Reference**: {_lines(row['reference'])}")
    for side, run in (("A", a), ("B", b)):
        if run is None or side not in row:
            continue
        with st.container(border=True):
            st.markdown(
                f"**{side}: {md_escape(run.candidate.label)}** · "
                f"{md_escape(name)} {row[f'{side} {name}']:.3f}"
            )
            st.markdown(_highlight(row[side], row["reference"]))
            c = copying(row["input"], row[side])
            st.caption(
                f"Copied from the input: {c.copied:.0%} of its words (longest run "
                f"{plural(c.longest, 'word')}) · {c.compression:.1f}x shorter than the input"
            )
            invented = unsupported(row["input"], row[side])
            if invented:
                st.caption(
                    "Not in the input (possibly invented): " + md_escape(", ".join(invented))
                )
            _rating(project_id, run, pick)


def _rating(project_id: str, run: EvalRun, example_id: str) -> None:
    current = ratings(get_store(), project_id, run.id).get(example_id)
    choice = st.feedback("stars", key=f"{Keys.EVAL_RATE}{run.id}_{example_id}")
    if choice is not None and choice + 1 != current:
        rate(get_store(), project_id, run.id, example_id, choice + 1)
        current = choice + 1
    st.caption(f"Your rating: {current}/5" if current else "Not rated yet (1-5 stars).")


def ratings_summary(project_id: str, runs: list[EvalRun]) -> None:
    """Mean human rating beside the automatic metrics."""
    rows = []
    for run in runs:
        given = ratings(get_store(), project_id, run.id)
        if given:
            rows.append(
                {
                    "Candidate": run.candidate.label,
                    "Rated examples": len(given),
                    "Mean rating (1-5)": round(sum(given.values()) / len(given), 2),
                    display_name(primary_key(run.metrics)): round(
                        run.scores.get(primary_key(run.metrics), 0), 3
                    ),
                }
            )
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")


def delete_ui(project_id: str, runs: list[EvalRun]) -> None:
    """Delete one run after a confirmation."""
    by_id = {r.id: r for r in runs}
    c1, c2, c3 = st.columns([3, 1, 1])
    pick = c1.selectbox(
        "Run",
        list(by_id),
        key=Keys.EVAL_DELETE_PICK,
        format_func=lambda i: f"{by_id[i].candidate.label} ({by_id[i].set_name})",
    )
    sure = c2.checkbox("Confirm", key=Keys.EVAL_DELETE_OK)
    c3.button(
        "Delete run",
        disabled=not sure,
        on_click=delete_eval_run,
        args=(get_store(), project_id, pick),
    )
