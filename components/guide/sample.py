"""The sample project on Home: one click opens it; on the sample, where its figures came from."""

from __future__ import annotations

import streamlit as st

from components.project import flash, open_project
from components.resources import get_embedder, get_store
from components.state import Keys
from lifecycle.sample import (
    SAMPLE_DIR,
    attach_collection,
    has_collection,
    is_sample,
    open_sample,
    provenance_line,
    read_provenance,
)
from lifecycle.store import Project, StoreError
from lifecycle.text import md_escape, safe_markdown

BUILDING = "Building the sample's starter collection (stage guides, task table)"


def _open() -> None:
    try:
        project, reopened = open_sample(get_store())
    except StoreError as err:
        flash(safe_markdown(str(err)))
        return
    open_project(project.id)
    how = "reopened (delete it to start again from the shipped files)" if reopened else "opened"
    flash(f"Sample project “{md_escape(project.name)}” {how}.{_attach()}")


def _attach() -> str:
    """Build the collection the sample's retrieval was measured on, if missing ('' once there)."""
    from components.rag.ui import settings_store  # the RAG stack loads only on this click
    from lifecycle.rag import EMBEDDED_EMBEDDER, RagError

    try:
        vectors = settings_store()
        if not has_collection(vectors):
            bar = st.progress(0.0, text=BUILDING)
            embedder = get_embedder(EMBEDDED_EMBEDDER)
            attach_collection(vectors, embedder, lambda d, t: bar.progress(d / max(t, 1), BUILDING))
            bar.empty()
    except RagError as err:
        why = md_escape(str(err))
        return f" Its starter collection is not built ({why}): the RAG page builds it."
    return ""


def sample_button() -> None:
    """'Open the sample project', with what it holds; absent when the files are not shipped."""
    if not (SAMPLE_DIR / "project.json").is_file():
        return
    st.button(
        "Open the sample project",
        key=Keys.HOME_SAMPLE,
        icon=":material/science:",
        on_click=_open,
        help="A summarization project recorded on the embedded model: scope, model, two prompt "
        "versions, a shots curve and their evaluation runs, a short LoRA run, preferences, deploy "
        "measurements, the starter RAG collection with its retrieval quality, and the decision "
        "each gate proposed from them, accepted. Opening it again reopens the same project.",
    )


def sample_note(project: Project) -> None:
    """On the sample project: when, where and how its figures were recorded."""
    if is_sample(project.id):
        line = provenance_line(read_provenance())
        if line:
            st.info(md_escape(line), icon=":material/science:")
