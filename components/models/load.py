"""Load a picked model on the page: its reason in view when it cannot, the embedded model's
preparation in the background with its progress."""

from __future__ import annotations

import time

import streamlit as st

from components.models.open import open_model
from components.resources import get_conversion
from components.untrusted import show_error
from lifecycle.models import EMBEDDED, ChatModel, ModelLoadError
from lifecycle.models.sources import embedded_ready
from lifecycle.text import md_escape


def load_ui(ref: str) -> ChatModel | None:
    """The loaded model; None (with the reason or the embedded model's preparation in view)
    when it cannot load yet: the rest of the page goes on meanwhile."""
    try:
        if ref == EMBEDDED and not embedded_ready_ui():
            return None
        with st.spinner(f"Loading {md_escape(ref)}..."):
            return open_model(ref)
    except ModelLoadError as err:
        show_error(err)
        return None


def embedded_ready_ui() -> bool:
    """True once the embedded model's fast copy exists. Setup (`make run`) makes it; in a data
    folder it did not prepare, the conversion runs in the background with its progress here,
    and the page reruns when it is done: no page waits for it."""
    if embedded_ready():
        return True
    job = get_conversion()
    job.start()
    if job.finished and not job.error:
        return True
    if job.error:
        show_error(f"The embedded model could not be prepared: {job.error}")
        if st.button("Try again"):
            job.start()
            st.rerun()
        return False
    _conversion_progress()
    return False


@st.fragment(run_every=1.0)
def _conversion_progress() -> None:
    """The background conversion's progress, redrawn each second; the page reruns at the end."""
    job = get_conversion()
    if job.finished:
        st.rerun(scope="app")
    elapsed = time.monotonic() - job.started
    st.progress(
        min(max(job.done, 0.0), 1.0),
        text=f"Preparing the embedded model, once for this data folder: {md_escape(job.what)} "
        f"· {elapsed:.0f} s (20-60 s on a free 2-core machine, minutes when it is busy). "
        "The rest of the page works meanwhile; `make run` does this during setup.",
    )
