"""The sample project on Home: one click opens it; on the sample, where its figures came from."""

from __future__ import annotations

import streamlit as st

from components.project import flash, open_project
from components.resources import get_store
from components.state import Keys
from lifecycle.sample import SAMPLE_DIR, is_sample, open_sample, provenance_line, read_provenance
from lifecycle.store import Project, StoreError
from lifecycle.text import md_escape, safe_markdown


def _open() -> None:
    try:
        project, reopened = open_sample(get_store())
    except StoreError as err:
        flash(safe_markdown(str(err)))
        return
    open_project(project.id)
    how = "reopened (delete it to start again from the shipped files)" if reopened else "opened"
    flash(f"Sample project “{md_escape(project.name)}” {how}.")


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
        "versions and their evaluation runs, a short LoRA run, preferences and deploy "
        "measurements. Opening it again reopens the same project.",
    )


def sample_note(project: Project) -> None:
    """On the sample project: when, where and how its figures were recorded."""
    if is_sample(project.id):
        line = provenance_line(read_provenance())
        if line:
            st.info(md_escape(line), icon=":material/science:")
