"""Lifecycle: a guide through the generative-AI project lifecycle. Router only."""

from pathlib import Path

import streamlit as st

import lifecycle  # noqa: F401  (sets the offline environment before anything heavy loads)
from components.guide.tracker import refresh_tracker, render_tracker
from components.pages import PAGES
from components.project import show_flash, sidebar_project
from components.state import init_state

# A local file: a :material: page icon makes the browser fetch it from a font host on the internet.
ICON = str(Path(__file__).parent / "assets" / "icon.png")
st.set_page_config(page_title="Lifecycle", page_icon=ICON, layout="wide")
init_state()

pages: dict[str, list] = {}
for page in PAGES:
    pages.setdefault(page.section, []).append(
        st.Page(page.path, title=page.title, icon=page.icon, default=page.title == "Home")
    )
# Every page in view: with more than twelve, Streamlit would hide the last ones behind "View more".
navigation = st.navigation(pages, expanded=True)
sidebar_project()
tracker = st.sidebar.empty()
drawn = render_tracker(tracker)
show_flash()
navigation.run()
refresh_tracker(tracker, drawn)  # not reached when a page stops early: nothing changed then
