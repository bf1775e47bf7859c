"""Project management panel: new, open, rename, duplicate, delete, export, import."""

from __future__ import annotations

import shutil

import streamlit as st

from components.project import flash, open_project
from components.resources import get_store
from components.state import Keys
from lifecycle.store import Project, StoreError
from lifecycle.text import md_escape, slug
from lifecycle.transfer import export_bytes, import_project


def _create() -> None:
    try:
        project = get_store().create_project(st.session_state[Keys.HOME_NEW_NAME])
    except StoreError as err:
        flash(str(err))
        return
    open_project(project.id)
    st.session_state[Keys.HOME_NEW_NAME] = ""
    flash(f"Project “{md_escape(project.name)}” created and opened.")


def new_project_form() -> None:
    """A name field and a Create button."""
    with st.form("home_new_project", clear_on_submit=False, border=False):
        st.text_input(
            "New project name",
            key=Keys.HOME_NEW_NAME,
            max_chars=200,
            placeholder="e.g. Support-chat summaries",
        )
        st.form_submit_button("Create project", icon=":material/add:", on_click=_create)


def _rename(project: Project) -> None:
    try:
        renamed = get_store().rename_project(project.id, st.session_state[Keys.HOME_RENAME])
        flash(f"Renamed to “{md_escape(renamed.name)}”.")
    except StoreError as err:
        flash(str(err))


def _duplicate(project: Project) -> None:
    copy = get_store().duplicate_project(project.id)
    open_project(copy.id)
    flash(f"Duplicated as “{md_escape(copy.name)}”, now open.")


def _delete(project: Project) -> None:
    get_store().delete_project(project.id)
    _delete_artefacts(project.id)
    st.session_state[Keys.HOME_DELETE_CONFIRM] = False
    open_project(None)
    flash(f"Project “{md_escape(project.name)}” deleted.")


def _delete_artefacts(project_id: str) -> None:
    """The project's vector collections and finished fine-tune runs go with it."""
    from components.resources import get_vector_store
    from lifecycle.config import data_home
    from lifecycle.finetune.runs import ACTIVE, list_runs
    from lifecycle.rag import RagError

    folder = data_home() / "vectors"
    if folder.is_dir():  # no store yet: nothing to delete, and no client to start
        try:
            get_vector_store("embedded", "127.0.0.1", 8000, str(data_home())).delete_project(
                project_id
            )
        except RagError:
            pass  # the project is gone either way; leftover vectors are unreachable
    for run in list_runs(project_id):
        if run.status.state not in ACTIVE:  # a running job finishes; its folder stays
            shutil.rmtree(run.folder, ignore_errors=True)


def _import() -> None:
    upload = st.session_state.get(Keys.HOME_IMPORT)
    if upload is None:
        return
    try:
        project = import_project(get_store(), upload.getvalue())
    except StoreError as err:
        flash(f"Import failed: {md_escape(str(err))}")
        return
    open_project(project.id)
    flash(f"Imported “{md_escape(project.name)}” and opened it.")


def manage_project(project: Project) -> None:
    """Rename, duplicate, export and delete the open project."""
    st.session_state.setdefault(Keys.HOME_RENAME, project.name)
    left, right = st.columns(2)
    with left.form("home_rename_form", border=False):
        st.text_input("Rename", key=Keys.HOME_RENAME, max_chars=200)
        st.form_submit_button("Rename", icon=":material/edit:", on_click=_rename, args=(project,))
    right.download_button(
        "Export as JSON",
        data=export_bytes(get_store(), project.id),
        file_name=f"{slug(project.name)}.lifecycle.json",
        mime="application/json",
        icon=":material/download:",
    )
    right.button("Duplicate", icon=":material/content_copy:", on_click=_duplicate, args=(project,))
    with st.container(border=True):
        st.checkbox(
            f"Yes, delete “{md_escape(project.name)}” and everything decided in it",
            key=Keys.HOME_DELETE_CONFIRM,
        )
        st.button(
            "Delete project",
            type="primary",
            icon=":material/delete:",
            disabled=not st.session_state.get(Keys.HOME_DELETE_CONFIRM),
            on_click=_delete,
            args=(project,),
        )


def import_form() -> None:
    """Upload an exported project file."""
    st.file_uploader(
        "Import a project (.json export)",
        type=["json"],
        key=Keys.HOME_IMPORT,
        help="A file exported from Lifecycle. It becomes a new project.",
    )
    st.button(
        "Import",
        icon=":material/upload:",
        on_click=_import,
        disabled=st.session_state.get(Keys.HOME_IMPORT) is None,
    )
