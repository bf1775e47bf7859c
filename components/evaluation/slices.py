"""The Evaluate page's slices, kept per set in the project: leaving or restarting keeps them."""

from __future__ import annotations

import streamlit as st

from components.state import Keys

SLICE_DEFAULTS: dict = {"limits": {}, "shots_slices": {}}
DEFAULT_LIMIT = 20  # examples a first run evaluates: minutes on a CPU
DEFAULT_SHOTS_SLICE = 6  # five prompts on each: the shots curve costs five runs
_SLIDERS = (
    (Keys.EVAL_LIMIT, "limits", DEFAULT_LIMIT),
    (Keys.EVAL_SHOTS_SLICE, "shots_slices", DEFAULT_SHOTS_SLICE),
)


def _counts(value: object) -> dict[str, int]:
    """A saved {set: examples} map with only whole positive counts (a hand-edited file, say)."""
    if not isinstance(value, dict):
        return {}
    return {
        str(k): v
        for k, v in value.items()
        if isinstance(v, int) and not isinstance(v, bool) and v > 0
    }


def slice_widgets(data: dict) -> dict:
    """No widget mirrors the record one to one: the sliders show the chosen set's entry."""
    return {}


def place_slices(saved: dict, project_id: str, set_id: str, examples: int) -> None:
    """Give both sliders this set's saved slice when the set (or project) changed, or the page
    was left (Streamlit drops a hidden page's widget values); fit them to the set's size."""
    here = [project_id, set_id]
    moved = st.session_state.get(Keys.EVAL_SLICE_SET) != here
    for key, field, default in _SLIDERS:
        value = st.session_state.get(key)
        if moved or value is None:
            value = _counts(saved.get(field)).get(set_id, default)
        fitted = min(max(int(value), 1), max(examples, 1))
        # Assign only a changed value: writing a widget's key every run sends the value back
        # to the browser and can undo key presses made while the run was in flight.
        if st.session_state.get(key) != fitted:
            st.session_state[key] = fitted
    if moved:
        st.session_state[Keys.EVAL_SLICE_SET] = here


def slice_record(saved: dict, set_id: str, examples: int) -> dict:
    """The record with this set's slider values once moved (other sets keep theirs)."""
    record = {}
    for key, field, default in _SLIDERS:
        counts = _counts(saved.get(field))
        value = st.session_state.get(key)
        # an untouched slider is not saved: opening the page writes nothing
        if value is not None and (set_id in counts or value != min(default, examples)):
            counts[set_id] = int(value)
        record[field] = counts
    return record
