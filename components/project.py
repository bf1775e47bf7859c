"""The open project: which one it is, switching between projects, and the page guard."""

from __future__ import annotations

import streamlit as st

from components.resources import get_store
from components.state import Keys, forget_record_widgets
from lifecycle.store import Project


def flash(message: str) -> None:
    """Show a message once, after the rerun that an action causes."""
    st.session_state[Keys.FLASH] = message


def show_flash() -> None:
    """Draw (and forget) the pending flash message."""
    message = st.session_state.get(Keys.FLASH)
    if message:
        st.toast(message)
        st.session_state[Keys.FLASH] = None


def open_project(project_id: str | None) -> None:
    """Make a project the open one and forget the widget values of the previous one."""
    if project_id != st.session_state.get(Keys.PROJECT_ID):
        forget_record_widgets()
        st.session_state.pop(Keys.HOME_RENAME, None)
    st.session_state[Keys.PROJECT_ID] = project_id


def current_project() -> Project | None:
    """The open project; reopens the latest one after a restart, notices deletions elsewhere."""
    store = get_store()
    project_id = st.session_state.get(Keys.PROJECT_ID)
    project = store.get_project(project_id) if project_id else None
    if project_id and project is None:
        flash("The project you had open was deleted (maybe in another tab).")
    if project is None:
        projects = store.list_projects()
        project = projects[0] if projects else None
        open_project(project.id if project else None)
    return project


def require_project() -> Project:
    """The open project, or a pointer to Home and a stop when there is none."""
    project = current_project()
    if project is None:
        st.info("Create a project on the Home page first: every decision is saved into it.")
        st.page_link("app_pages/home.py", label="Go to Home", icon=":material/home:")
        st.stop()
    return project


def _switch() -> None:
    open_project(st.session_state[Keys.SIDEBAR_PROJECT])


def sidebar_project() -> None:
    """A project switcher in the sidebar, on every page."""
    project = current_project()
    projects = get_store().list_projects()
    with st.sidebar:
        if not projects:
            st.caption("No project yet: create one on Home.")
            return
        names = {p.id: p.name for p in projects}
        st.session_state[Keys.SIDEBAR_PROJECT] = project.id if project else projects[0].id
        st.selectbox(
            "Open project",
            list(names),
            format_func=names.get,
            key=Keys.SIDEBAR_PROJECT,
            on_change=_switch,
            help="Everything you decide on any page is saved into this project at once.",
        )
