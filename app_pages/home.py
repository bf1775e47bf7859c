"""Home: the stage map of the open project and project management."""

import streamlit as st

from components.guide.decisions import render_decisions
from components.guide.sample import sample_button, sample_note
from components.guide.stage_map import render_stage_map
from components.guide.tracker import render_start
from components.project import current_project
from components.project_admin import import_form, manage_project, new_project_form
from components.resources import get_store
from lifecycle.overview import overview
from lifecycle.text import md_escape

st.title("Lifecycle")
st.markdown(
    "Plan a generative-AI project stage by stage, and try each decision on a model running on "
    "this machine. Scope the task, select a model, adapt and align it, evaluate, deploy, and add "
    "the infrastructure around it; the plan and report collect every decision."
)

project = current_project()
if project is None:
    st.subheader("Start a project")
    st.caption(
        "Start here: name a project below, then go to 1 Scope to pick its task; the Progress "
        "list in the sidebar shows where you are. A project holds every decision you make on "
        "every page; it is saved as you go. Or open the sample project to see every stage "
        "with its evidence first."
    )
    sample_button()
    new_project_form()
    import_form()
    st.stop()

st.subheader(f"Project: {md_escape(project.name)}")
sample_note(project)
ov = overview(get_store(), project.id)
render_start(ov)
render_stage_map(ov)
render_decisions(ov.decisions)

st.subheader("Projects")
new_tab, manage_tab, import_tab = st.tabs(["New", "This project", "Import"])
with new_tab:
    new_project_form()
    sample_button()
with manage_tab:
    manage_project(project)
with import_tab:
    import_form()
