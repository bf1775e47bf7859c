"""The stage guide panel shown at the top of each stage page."""

from __future__ import annotations

import streamlit as st

from lifecycle.stages import STAGE_BY_ID, guide_sections


def render_guide(stage_id: str, expanded: bool = False) -> None:
    """An expander with the stage's guide: what is decided, inputs, outputs, pitfalls, done."""
    stage = STAGE_BY_ID[stage_id]
    sections = guide_sections(stage_id)
    with st.expander(
        f"Guide: stage {stage.number}, {stage.title.lower()}",
        expanded=expanded,
        icon=":material/menu_book:",
    ):
        st.markdown(sections.get("", ""))
        names = [n for n in sections if n]
        for tab, name in zip(st.tabs(names), names):
            tab.markdown(sections[name])
