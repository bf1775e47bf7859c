"""The stage tracker in the sidebar of every page, and the "Next" link at the end of each stage."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.pages import PAGES
from components.project import current_project
from components.resources import get_store
from lifecycle.guided import WHY, next_step, overridden, track
from lifecycle.overview import Overview, overview
from lifecycle.present import FIRST_PAGE
from lifecycle.stages import STAGES
from lifecycle.store import StoreError

PAGE_FILES = {page: f"app_pages/{page}.py" for page in WHY}
STAGE_FILES = {stage: PAGE_FILES[page] for stage, page in FIRST_PAGE.items()}  # one mapping
ICONS = {
    "decided": ":material/check_circle:",
    "in progress": ":material/pending:",
    "not started": ":material/radio_button_unchecked:",
    "not needed": ":material/do_not_disturb_on:",
}
OVERRIDDEN = ":material/edit_note:"  # decided against the gate's proposal (Home lists the reason)
TITLES = {p.path: p.title for p in PAGES}


def _overview() -> Overview | None:
    project = current_project()
    if project is None:
        return None
    try:
        return overview(get_store(), project.id)
    except StoreError:  # deleted in another tab: the page itself says so
        return None


Drawn = tuple[dict[str, str], set[str]] | None  # what the tracker shows: states, overridden


def render_tracker(slot: DeltaGenerator) -> Drawn:
    """Seven links in the sidebar `slot` (an st.empty), each with the stage's state (decided ...
    not needed); returns what it drew."""
    ov = _overview()
    if ov is None:
        slot.empty()
        return None
    states, flagged = track(ov), overridden(ov)
    with slot.container(), st.expander("Progress", expanded=True, icon=":material/route:"):
        for stage in STAGES:
            state = states[stage.id]
            st.page_link(
                STAGE_FILES[stage.id],
                label=f"{stage.number} {stage.title}: {state}",
                icon=OVERRIDDEN if stage.id in flagged else ICONS[state],
            )
    return states, flagged


def refresh_tracker(slot: DeltaGenerator, drawn: Drawn) -> None:
    """Draw the tracker again when the page just changed a stage's state (a measurement saved,
    a run evaluated): drawn before the page ran, it would contradict what the page shows."""
    ov = _overview()
    now = (track(ov), overridden(ov)) if ov is not None else None
    if now != drawn:
        render_tracker(slot)


def render_next(page: str) -> None:
    """The next useful step for this project after `page`, as a link with the reason."""
    ov = _overview()
    if ov is None:
        return
    step = next_step(ov, page)
    if step.page == page:
        return
    st.divider()
    st.page_link(
        PAGE_FILES[step.page],
        label=f"Next: {TITLES[PAGE_FILES[step.page]]}. {step.why}",
        icon=":material/arrow_forward:",
    )


def render_start(ov: Overview) -> None:
    """Home's pointer: where to start (a new project) or where to carry on (a started one)."""
    step = next_step(ov)
    started = "scope" in track(ov) and track(ov)["scope"] == "decided"
    label = f"{'Carry on' if started else 'Start here'}: {TITLES[PAGE_FILES[step.page]]}"
    st.page_link(PAGE_FILES[step.page], label=f"{label}. {step.why}", icon=":material/flag:")
