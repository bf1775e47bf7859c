"""The result card of a chosen task and the stage needs: what the scope implies, with why."""

from __future__ import annotations

import streamlit as st

from lifecycle.needs import StageNeed
from lifecycle.scope import TaskCard
from lifecycle.selection.catalog import ModelSpec
from lifecycle.stages import STAGES

STATUS_BADGES = {
    "start": ":green-badge[start here]",
    "plan": ":blue-badge[planned]",
    "baseline": ":violet-badge[baseline]",
    "if needed": ":gray-badge[if needed]",
    "not needed": ":gray-badge[not needed]",
}
NEED_BADGES = {
    "needed": ":blue-badge[needed]",
    "if needed": ":gray-badge[if needed]",
    "not needed": ":gray-badge[not needed]",
}


def render_task_card(card: TaskCard, role: str, models: list[ModelSpec]) -> None:
    """One bordered card per chosen task, with the catalogue models inside its size band."""
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
        names = ", ".join(m.name for m in models[:6]) or "none in the catalogue"
        st.markdown(f"**Catalogue models in this band:** {names}")
        others = [f"{b.architecture} {b.label}" for b in card.bands[1:]]
        if others:
            st.caption("Alternatives worth trying: " + "; ".join(others) + ".")
        st.markdown("**Adaptation ladder**")
        for rung in card.ladder:
            st.markdown(f"{STATUS_BADGES[rung.status]} **{rung.label}**: {rung.why}")
        st.markdown("**Risks**")
        for risk in card.risks:
            st.markdown(f"- **{risk.name}**: {risk.why}")


def render_stage_needs(needs: dict[str, StageNeed]) -> None:
    """The seven stages with what this scope needs from each (as Home, Plan and the report)."""
    for stage in STAGES:
        need = needs[stage.id]
        st.markdown(f"{NEED_BADGES[need.need]} **{stage.number}. {stage.title}**: {need.why}")
