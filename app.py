"""Lifecycle: a guide through the generative-AI project lifecycle. Router only."""

from pathlib import Path

import streamlit as st

import lifecycle  # noqa: F401  (sets the offline environment before anything heavy loads)
from components.project import show_flash, sidebar_project
from components.state import init_state

# A local file: a :material: page icon makes the browser fetch it from a font host on the internet.
ICON = str(Path(__file__).parent / "assets" / "icon.png")
st.set_page_config(page_title="Lifecycle", page_icon=ICON, layout="wide")
init_state()

pages = {
    "Project": [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/plan.py", title="Plan and report", icon=":material/event_note:"),
        st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
    ],
    "Stages": [
        st.Page("app_pages/scope.py", title="1 Scope", icon=":material/target:"),
        st.Page(
            "app_pages/model_selection.py", title="2 Model selection", icon=":material/memory:"
        ),
        st.Page("app_pages/playground.py", title="3 Adapt: playground", icon=":material/chat:"),
        st.Page(
            "app_pages/finetune.py", title="3 Adapt: fine-tune", icon=":material/model_training:"
        ),
        st.Page("app_pages/align.py", title="4 Align", icon=":material/thumbs_up_down:"),
        st.Page("app_pages/evaluate.py", title="5 Evaluate", icon=":material/leaderboard:"),
        st.Page("app_pages/deploy.py", title="6 Deploy", icon=":material/rocket_launch:"),
        st.Page("app_pages/rag.py", title="7 Infrastructure: RAG and tools", icon=":material/hub:"),
    ],
}
navigation = st.navigation(pages)
sidebar_project()
show_flash()
navigation.run()
