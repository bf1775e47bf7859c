"""Pickers shared by the align and deploy pages: a model (embedded, a run, a folder), a set."""

from __future__ import annotations

import streamlit as st

from components.models.open import serving_options
from components.state import Keys
from lifecycle.deploy.gguf_variants import run_choices
from lifecycle.evaluation.datasets import shipped_index
from lifecycle.finetune.runs import list_runs
from lifecycle.models import EMBEDDED
from lifecycle.models.sources import EMBEDDED_NAME

OTHER = "__other__"


def completed_runs(project_id: str) -> list[str]:
    """Refs (run:<id>) of the project's finished fine-tune and DPO runs, newest first."""
    return [r.ref for r in list_runs(project_id) if r.status.state == "completed"]


def gguf_options(project_id: str | None) -> dict[str, str]:
    """The GGUF variants built for the project's finished runs (llamacpp:run:<id>/<quant>)."""
    runs = completed_runs(project_id) if project_id else []
    return run_choices([ref[len("run:") :] for ref in runs])


def pick_model(
    label: str, key: str, project_id: str, help: str | None = None, serving: bool = False
) -> str:
    """The chosen model ref ('' while the typed folder is empty); that box's key is key_other.

    serving=True adds the llama.cpp fast path and the endpoints: models that can answer but not
    be trained or quantized here.
    """
    labels = serving_options() if serving else {EMBEDDED: EMBEDDED_NAME}
    ggufs = gguf_options(project_id) if serving else {}
    options = [*labels, *completed_runs(project_id), *ggufs, OTHER]
    labels.update(ggufs)
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    labels[OTHER] = "Another model (local folder)"
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


def serving_pick(col, current: str, key: str) -> str:
    """A model that answers prompts (any runtime or endpoint) or a typed id; `current` first.

    Widget keys: key + "model_pick" (the choice) and key + "model" (the typed id or folder).
    """
    labels = {**serving_options(), **gguf_options(st.session_state.get(Keys.PROJECT_ID))}
    if current and current not in labels:
        labels[current] = f"Saved: {current}"
    labels[OTHER] = "Another model (hub id or folder)"
    options = list(labels)
    pick = col.selectbox(
        "Model",
        options,
        index=options.index(current) if current in options else 0,
        format_func=labels.get,
        key=key + "model_pick",
    )
    if pick != OTHER:
        return pick
    return col.text_input("Model id or folder", key=key + "model").strip() or EMBEDDED
