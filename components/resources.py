"""Every @st.cache_resource loader of the app (shared by all sessions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from lifecycle.config import data_home
from lifecycle.store import Store

if TYPE_CHECKING:
    from lifecycle.models import LoadedModel


@st.cache_resource(max_entries=4, show_spinner=False)
def _store_at(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """The project store in the current data folder (LIFECYCLE_HOME)."""
    return _store_at(str(data_home() / "lifecycle.sqlite"))


@st.cache_resource(max_entries=2, show_spinner=False)
def get_model(ref: str) -> LoadedModel:
    """A loaded model shared by every session (its lock serialises generation)."""
    from lifecycle.models import load_model

    return load_model(ref)
