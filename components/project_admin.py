"""Project management panel: new, open, rename, duplicate, delete, export, import."""

from __future__ import annotations

import streamlit as st

from components.project import flash, open_project
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.project_cleanup import active_jobs, delete_project_everywhere
from lifecycle.store import MAX_IMPORT_BYTES, MB, Project, StoreError
from lifecycle.text import md_escape, safe_markdown, slug
from lifecycle.transfer import encode_export, export_project, import_project, left_out_note


def _create() -> None:
    try:
        project = get_store().create_project(st.session_state[Keys.HOME_NEW_NAME])
    except StoreError as err:
        flash(safe_markdown(str(err)))
        return
    open_project(project.id)
    st.session_state[Keys.HOME_NEW_NAME] = ""
    flash(f"Project “{md_escape(project.name)}” created and opened.")


def new_project_form() -> None:
    """A name field and a Create button."""
    with st.form(Keys.HOME_NEW_FORM, clear_on_submit=False, border=False):
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
        flash(safe_markdown(str(err)))


def _duplicate(project: Project) -> None:
    copy = get_store().duplicate_project(project.id)
    open_project(copy.id)
    flash(f"Duplicated as “{md_escape(copy.name)}”, now open.")


def _delete(project: Project) -> None:
    warnings = delete_project_everywhere(get_store(), project.id, _vector_stores())
    st.session_state[Keys.HOME_DELETE_CONFIRM] = False
    open_project(None)
    flash(" ".join([f"Project “{md_escape(project.name)}” deleted.", *map(md_escape, warnings)]))


def _vector_stores() -> list:
    """The stores that may hold the project's collections: embedded (if used) and the server."""
    from components.resources import get_vector_store
    from lifecycle.config import data_home
    from lifecycle.settings import load_settings

    found = []
    if (data_home() / "vectors").is_dir():  # no store yet: nothing to delete, no client to start
        found.append(get_vector_store("embedded", "127.0.0.1", 8000, str(data_home())))
    s = load_settings()
    if s.chroma_kind == "server":
        found.append(get_vector_store("server", s.chroma_host, s.chroma_port, str(data_home())))
    return found


def _import() -> None:
    upload = st.session_state.get(Keys.HOME_IMPORT)
    if upload is None:
        return
    try:
        project = import_project(get_store(), upload.getvalue())
    except StoreError as err:  # kept on the page until dismissed: a toast is gone too soon
        st.session_state[Keys.HOME_IMPORT_ERROR] = f"Import of {upload.name} failed: {err}"
        return
    st.session_state[Keys.HOME_IMPORT_ERROR] = None
    open_project(project.id)
    flash(f"Imported “{md_escape(project.name)}” and opened it.")


def _dismiss_import_error() -> None:
    st.session_state[Keys.HOME_IMPORT_ERROR] = None


def manage_project(project: Project) -> None:
    """Rename, duplicate, export and delete the open project."""
    st.session_state.setdefault(Keys.HOME_RENAME, project.name)
    left, right = st.columns(2)
    with left.form(Keys.HOME_RENAME_FORM, border=False):
        st.text_input("Rename", key=Keys.HOME_RENAME, max_chars=200)
        st.form_submit_button("Rename", icon=":material/edit:", on_click=_rename, args=(project,))
    doc = export_project(get_store(), project.id)
    right.download_button(
        "Export as JSON",
        data=encode_export(doc),
        file_name=f"{slug(project.name)}.lifecycle.json",
        mime="application/json",
        icon=":material/download:",
    )
    if left_out_note(doc):
        right.caption(md_escape(left_out_note(doc)))
    right.button("Duplicate", icon=":material/content_copy:", on_click=_duplicate, args=(project,))
    with st.container(border=True):
        jobs = active_jobs(project.id)
        if jobs:
            st.warning(
                f"{len(jobs)} fine-tune job(s) of this project are queued or running: deleting "
                "the project stops them and removes their folders."
            )
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
    """Upload an exported project file; a refusal stays on the page until dismissed."""
    st.file_uploader(  # any file type: a wrong file gets a sentence, not a bare red mark
        "Import a project (.json export)",
        key=Keys.HOME_IMPORT,
        max_upload_size=MAX_IMPORT_BYTES // MB,
        help="A file exported from Lifecycle. It becomes a new project.",
    )
    chosen = st.session_state.get(Keys.HOME_IMPORT) is not None
    st.button("Import", icon=":material/upload:", on_click=_import, disabled=not chosen)
    if not chosen:
        st.caption(f"Choose a Lifecycle export (.json, up to {MAX_IMPORT_BYTES // MB} MB) first.")
    error = st.session_state.get(Keys.HOME_IMPORT_ERROR)
    if error:
        show_error(error, icon=":material/error:")
        st.button(
            "Dismiss", key=Keys.HOME_IMPORT_ERROR + "_dismiss", on_click=_dismiss_import_error
        )
