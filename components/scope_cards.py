"""The result card of a chosen task: architecture, size, metric, ladder and risks, with why."""

from __future__ import annotations

import streamlit as st

from lifecycle.scope import TaskCard

STATUS_BADGES = {
    "start": ":green-badge[start here]",
    "plan": ":blue-badge[planned]",
    "if needed": ":gray-badge[if needed]",
    "skip": ":gray-badge[skip]",
}


def render_task_card(card: TaskCard, role: str) -> None:
    """One bordered card per chosen task."""
    with st.container(border=True):
        st.markdown(f"#### {role}: {card.task.name}")
        st.caption(card.task.description)
        cols = st.columns(3)
        for col, label, item in zip(
            cols,
            ("Architecture", "Model size (parameters)", "Main metric"),
            (card.architecture, card.size, card.metric),
        ):
            col.metric(label, item.name)
            col.caption(item.why)
        st.markdown("**Adaptation ladder**")
        for rung in card.ladder:
            st.markdown(f"{STATUS_BADGES[rung.status]} **{rung.label}**: {rung.why}")
        st.markdown("**Risks**")
        for risk in card.risks:
            st.markdown(f"- **{risk.name}**: {risk.why}")
