"""The seven stages as a map of what the open project needs and has done at each."""

from __future__ import annotations

import streamlit as st

from components.guide.tracker import STAGE_FILES
from components.scope.cards import NEED_BADGES
from lifecycle.overview import Overview, stage_states
from lifecycle.stages import STAGES
from lifecycle.text import md_escape


def render_stage_map(ov: Overview) -> None:
    """Seven cards in order, each with its need, its progress and a link to its page."""
    states = stage_states(ov)
    columns = st.columns(4) + st.columns(4)
    for stage, col in zip(STAGES, columns):
        state = states[stage.id]
        with col.container(border=True, height=245):
            st.markdown(f"**{stage.number}. {stage.title}**")
            st.caption(stage.summary)
            st.markdown(NEED_BADGES[state.need], help=state.why)
            st.markdown(md_escape(state.progress))
            if stage.id in STAGE_FILES:
                st.page_link(STAGE_FILES[stage.id], label="Open", icon=":material/arrow_forward:")
    with columns[7].container(border=True, height=245):
        end = max(r.end for r in ov.plan)
        st.markdown("**Plan**")
        st.caption("Gantt chart, critical path, report.")
        st.markdown(f"Ends {end:%d %b %Y}")
        if ov.fit and not ov.fit.fits:
            st.markdown(":orange-badge[does not fit the scope]", help=" ".join(ov.fit.problems))
        st.page_link("app_pages/plan.py", label="Open", icon=":material/arrow_forward:")
