"""The one model picker every page uses, and the shipped set a task is measured on."""

from __future__ import annotations

import streamlit as st

from components.models.open import serving_options
from lifecycle.deploy.gguf_variants import run_choices
from lifecycle.evaluation.datasets import shipped_index
from lifecycle.finetune.runs import list_runs
from lifecycle.models import EMBEDDED
from lifecycle.models.sources import EMBEDDED_NAME, RUN_PREFIX

OTHER = "__other__"  # "another model": the picker then shows a box for a folder or a hub id
OTHER_LABEL = "Another model (local folder or hub id)"


def other_key(key: str) -> str:
    """The session key of the box a picker shows for another model."""
    return key + "_other"


def completed_runs(project_id: str | None) -> list[str]:
    """Refs (run:<id>) of the project's finished fine-tune and DPO runs, newest first."""
    if not project_id:
        return []
    return [r.ref for r in list_runs(project_id) if r.status.state == "completed"]


def gguf_options(project_id: str | None) -> dict[str, str]:
    """The GGUF variants built for the project's finished runs (llamacpp:run:<id>/<quant>)."""
    return run_choices([ref[len(RUN_PREFIX) :] for ref in completed_runs(project_id)])


def model_options(
    project_id: str | None, serving: bool = False, runs: bool = True, gguf: bool = False
) -> dict[str, str]:
    """Refs -> labels a picker offers, the default first, without the "another model" choice.

    serving: the llama.cpp fast path and the endpoints (they answer, but cannot be trained or
    quantized here); runs: the project's finished runs; gguf: those runs' GGUF variants.
    """
    labels = serving_options() if serving else {EMBEDDED: EMBEDDED_NAME}
    if runs:
        labels.update(
            {ref: f"Tuned run {ref[len(RUN_PREFIX) :]}" for ref in completed_runs(project_id)}
        )
    if gguf:
        labels.update(gguf_options(project_id))
    return labels


def pick_model(
    label: str,
    key: str,
    project_id: str | None,
    *,
    serving: bool = False,
    runs: bool = True,
    gguf: bool = False,
    preferred: str = "",
    preferred_as: str = "Project's model",
    help: str | None = None,
) -> str:
    """The chosen model ref, '' while the box for another model is empty.

    `preferred` (the project's model, a saved version's) is offered even when no other option
    names it, labelled with `preferred_as` ('' for its own label), and selected until something
    else is chosen.
    Session keys: `key` for the choice, other_key(key) for the typed folder or hub id.
    """
    labels = model_options(project_id, serving, runs, gguf)
    if preferred:
        known = labels.get(preferred, preferred)
        labels[preferred] = f"{preferred_as}: {known}" if preferred_as else known
    labels[OTHER] = OTHER_LABEL
    if st.session_state.get(key) not in labels:
        st.session_state[key] = preferred or next(iter(labels))
    pick = st.selectbox(label, list(labels), key=key, help=help, format_func=labels.get)
    if pick != OTHER:
        return pick
    return st.text_input(
        f"{label}: local folder or hub id",
        key=other_key(key),
        placeholder="/path/to/saved/model, owner/name"
        + (" or llamacpp:/path/model.gguf" if serving else ""),
    ).strip()


def shipped_set_for(task_id: str) -> str:
    """The id of the shipped set written for a task ('' when none is)."""
    return next((d["id"] for d in shipped_index() if d["task"] == task_id), "")
