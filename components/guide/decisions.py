"""The decision at a stage's gate: the proposal from the project's runs, accepted or overridden."""

from __future__ import annotations

import streamlit as st

from components.project import current_project
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.decision_records import MAX_REASON, current, decide, decision_for, proposals
from lifecycle.decisions import GATES, WAITING, Proposal, choice_label
from lifecycle.stages import STAGES
from lifecycle.store import StoreError
from lifecycle.text import md_code, md_escape, short_time

# Labels, references and the typed reason come from records: every one goes through md_escape.
STAGE_TITLES = {s.id: f"{s.number} {s.title}" for s in STAGES}


def render_gates(page: str) -> None:
    """Each gate this page asks (see GATES): its proposal, or what evidence it still needs."""
    project = current_project()
    gates = [g for g, gate in GATES.items() if page in gate.pages]
    if project is None or not gates:
        return
    try:
        found = proposals(get_store(), project.id)
    except StoreError as err:
        show_error(err)
        return
    st.divider()
    st.subheader("Decision from your evidence")
    for gate in gates:
        with st.container(border=True):
            _gate(project.id, gate, found[gate])


def _gate(project_id: str, gate: str, proposal: Proposal | None) -> None:
    st.markdown(f"**{GATES[gate].question}**")
    if proposal is None:
        st.caption(f"No proposal yet, nothing is assumed: {WAITING[gate]}")
        return
    st.markdown(f"Proposed: **{md_escape(proposal.what)}**")
    st.markdown(md_escape(proposal.why))
    evidence = ", ".join(md_code(e) for e in proposal.evidence)
    st.caption(f"Rule: {md_escape(proposal.rule)} Evidence: {evidence}.")
    error = st.session_state.pop(Keys.DECISION_ERROR + gate, None)
    if error:
        show_error(error)
    taken = decision_for(get_store(), project_id, proposal)
    if taken and not st.session_state.get(Keys.DECISION_REVISIT + gate):
        _taken(gate, taken)
        return
    _choose(project_id, gate, proposal)


def _taken(gate: str, taken: dict) -> None:
    when = short_time(taken.get("decided_at"))
    if taken.get("overridden"):
        st.warning(
            f"Overridden on {when}: **{md_escape(taken.get('what', ''))}** instead of "
            f"{md_escape(choice_label(gate, str(taken.get('proposed', ''))))}. "
            f"Reason: {md_escape(taken.get('reason', ''))}",
            icon=":material/edit_note:",
        )
    else:
        st.success(f"Accepted on {when}.", icon=":material/check_circle:")
    st.button(
        "Reconsider", key=Keys.DECISION_REVISIT + gate + "_button", on_click=_revisit, args=(gate,)
    )


def _choose(project_id: str, gate: str, proposal: Proposal) -> None:
    left, right = st.columns([1, 2])
    left.button(
        "Accept",
        key=Keys.DECISION_ACCEPT + gate,
        type="primary",
        icon=":material/check:",
        on_click=_decide,
        args=(project_id, proposal, proposal.proposed, ""),
    )
    with right.expander("Override with a reason"):
        st.selectbox(
            "Choose instead",
            proposal.alternatives,
            format_func=lambda c: choice_label(gate, c),
            key=Keys.DECISION_CHOICE + gate,
        )
        st.text_area(
            "Why (kept with the decision and shown in the report)",
            key=Keys.DECISION_REASON + gate,
            max_chars=MAX_REASON,
        )
        st.button(
            "Override",
            key=Keys.DECISION_OVERRIDE + gate,
            icon=":material/edit_note:",
            on_click=_override,
            args=(project_id, proposal),
        )


def _decide(project_id: str, proposal: Proposal, chosen: str, reason: str) -> None:
    try:
        decide(get_store(), project_id, proposal, chosen, reason)
    except StoreError as err:  # DecisionError included: a missing reason, a stale choice
        st.session_state[Keys.DECISION_ERROR + proposal.gate] = str(err)
        return
    st.session_state.pop(Keys.DECISION_REVISIT + proposal.gate, None)


def _override(project_id: str, proposal: Proposal) -> None:
    choice = st.session_state.get(Keys.DECISION_CHOICE + proposal.gate, "")
    reason = st.session_state.get(Keys.DECISION_REASON + proposal.gate, "")
    _decide(project_id, proposal, str(choice), str(reason))


def _revisit(gate: str) -> None:
    st.session_state[Keys.DECISION_REVISIT + gate] = True


def render_decisions(decisions: tuple[dict, ...]) -> None:
    """The latest decision of each gate, overrides flagged (Home, under the stage map)."""
    st.subheader("Decisions")
    latest = current(decisions)
    if not latest:
        st.caption(
            "No decision recorded yet. Evaluate, Fine-tune, Deploy and Infrastructure propose one "
            "from your own runs once the evidence exists."
        )
        return
    for d in latest:
        gate = str(d.get("gate", ""))
        stage = STAGE_TITLES.get(str(d.get("stage", "")), "")
        line = f"**{md_escape(stage)}**: {md_escape(d.get('what', ''))}"
        if d.get("overridden"):
            proposed = choice_label(gate, str(d.get("proposed", "")))
            line += (
                f" :orange-badge[overridden] (proposed: {md_escape(proposed)}; reason: "
                f"{md_escape(d.get('reason', ''))})"
            )
        st.markdown(line + f" · {md_escape(short_time(d.get('decided_at')))}")
        st.caption(md_escape(d.get("why", "")))
    earlier = len(decisions) - len(latest)
    if earlier:
        st.caption(f"{earlier} earlier decisions are kept in the project and the report.")
