"""Playground tabs: prompt versions (save, load, diff, delete, export) and the run history."""

from __future__ import annotations

import streamlit as st

from components.playground.record import record_widgets, version_record
from components.project import flash
from components.resources import get_store
from components.state import Keys
from lifecycle.models import GenParams
from lifecycle.prompting import PromptSpec
from lifecycle.store import StoreError
from lifecycle.text import md_escape, safe_markdown, short_time
from lifecycle.versions import (
    delete_version,
    diff_versions,
    export_json,
    list_runs,
    list_versions,
    runs_csv,
    save_version,
)


def _save(project_id: str, ref: str, task_id: str, spec: PromptSpec, params: GenParams) -> None:
    try:
        v = save_version(
            get_store(),
            project_id,
            st.session_state[Keys.PLAY_VERSION_NAME],
            task_id,
            spec,
            params,
            ref,
        )
        flash(f"Saved version “{md_escape(v.name)}”.")
        st.session_state[Keys.PLAY_VERSION_NAME] = ""
    except StoreError as err:
        flash(safe_markdown(str(err)))


def _load(project_id: str, version, project_model: str) -> None:
    data = version_record(version, project_model)
    st.session_state.update(record_widgets(data))
    flash(f"Loaded version “{md_escape(version.name)}” into the editor.")


def _delete(project_id: str, version_id: str) -> None:
    delete_version(get_store(), project_id, version_id)
    flash("Version deleted.")


def versions_tab(
    project_id: str,
    ref: str,
    task_id: str,
    spec: PromptSpec,
    params: GenParams,
    project_model: str = "",
) -> None:
    """Save, list, load, diff, delete and export prompt versions."""
    with st.form(Keys.PLAY_SAVE_FORM, border=False):
        st.text_input(
            "Version name",
            key=Keys.PLAY_VERSION_NAME,
            max_chars=200,
            placeholder="e.g. 3-shot, greedy",
        )
        st.form_submit_button(
            "Save the current prompt as a version",
            icon=":material/save:",
            on_click=_save,
            args=(project_id, ref, task_id, spec, params),
        )
    versions = list_versions(get_store(), project_id)
    if not versions:
        st.info("No versions yet: save the prompt above to keep it with its settings and model.")
        return
    st.dataframe(
        [
            {
                "Name": v.name,
                "Saved": short_time(v.created_at),
                "Task": v.task_id,
                "Shots": v.prompt.shots,
                "Sampling": v.params.do_sample,
                "Temperature": v.params.temperature,
                "Max new tokens": v.params.max_new_tokens,
                "Model": v.model_ref,
            }
            for v in versions
        ],
        hide_index=True,
        width="stretch",
    )
    by_id = {v.id: v for v in versions}
    pick = st.selectbox(
        "Version", list(by_id), format_func=lambda i: by_id[i].name, key=Keys.PLAY_VERSION_PICK
    )
    c1, c2, c3 = st.columns(3)
    c1.button("Load into the editor", on_click=_load, args=(project_id, by_id[pick], project_model))
    sure = c3.checkbox("Confirm delete", key=Keys.PLAY_VERSION_DELETE_OK)
    c2.button("Delete", disabled=not sure, on_click=_delete, args=(project_id, pick))
    a, b = st.columns(2)
    first = a.selectbox(
        "Diff from",
        list(by_id),
        format_func=lambda i: by_id[i].name,
        key=f"{Keys.PLAY_DIFF}a{len(by_id)}",
    )
    second = b.selectbox(
        "to",
        list(by_id),
        index=len(by_id) - 1,
        format_func=lambda i: by_id[i].name,
        key=f"{Keys.PLAY_DIFF}b{len(by_id)}",
    )
    diff = diff_versions(by_id[first], by_id[second])
    st.code(diff or "The two versions are identical.", language="diff")


HISTORY_COLUMNS = (
    "label",
    "model",
    "shots",
    "do_sample",
    "temperature",
    "prompt_tokens",
    "completion_tokens",
    "queue_s",
    "latency_s",
    "ttft_s",
    "tokens_per_s",
    "output",
)


def history_tab(project_id: str) -> None:
    """Every run of this project's playground, newest first, exportable."""
    runs = list_runs(get_store(), project_id)
    if not runs:
        st.info("Runs appear here once you press Run or Run all variants.")
        return
    st.dataframe(
        [
            {
                "created_at": short_time(r.get("created_at")),
                **{k: r.get(k) for k in HISTORY_COLUMNS},
            }
            for r in runs[:200]
        ],
        hide_index=True,
        width="stretch",
    )
    versions = list_versions(get_store(), project_id)
    c1, c2 = st.columns(2)
    c1.download_button(
        "Runs as CSV", runs_csv(runs), "playground-runs.csv", "text/csv", icon=":material/table:"
    )
    c2.download_button(
        "Versions and runs as JSON",
        export_json(versions, runs),
        "playground.json",
        "application/json",
        icon=":material/data_object:",
    )
