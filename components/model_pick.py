"""Pickers shared by the align and deploy pages: a model (embedded, a run, a folder), a set."""

from __future__ import annotations

import streamlit as st

from lifecycle.evaluation.datasets import shipped_index
from lifecycle.finetune.runs import list_runs
from lifecycle.models import EMBEDDED
from lifecycle.models.sources import EMBEDDED_NAME

OTHER = "__other__"


def completed_runs(project_id: str) -> list[str]:
    """Refs (run:<id>) of the project's finished fine-tune and DPO runs, newest first."""
    return [r.ref for r in list_runs(project_id) if r.status.state == "completed"]


def pick_model(label: str, key: str, project_id: str, help: str | None = None) -> str:
    """The chosen model ref ('' while the typed folder is empty); that box's key is key_other."""
    options = [EMBEDDED, *completed_runs(project_id), OTHER]
    if st.session_state.get(key) not in options:
        st.session_state[key] = EMBEDDED
    labels = {EMBEDDED: EMBEDDED_NAME, OTHER: "Another model (local folder)"}
    pick = st.selectbox(
        label,
        options,
        key=key,
        help=help,
        format_func=lambda o: labels.get(o, f"Tuned run {o[4:]}"),
    )
    if pick != OTHER:
        return pick
    return st.text_input(
        f"{label}: folder", key=key + "_other", placeholder="/path/to/saved/model"
    ).strip()


def shipped_set_for(task_id: str) -> str:
    """The id of the shipped set written for a task ('' when none is)."""
    return next((d["id"] for d in shipped_index() if d["task"] == task_id), "")
