"""Slow first loads (a model's weights, the embedder and the vector store) in a background thread:
the page shows their status in place, the rest of it works, and it reruns when they are ready."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from components.state import Keys
from components.untrusted import show_error
from lifecycle.background import BackgroundJob
from lifecycle.text import md_escape

OnStep = Callable[[str, float], None]  # (what is happening, fraction done 0-1)
STATUS_NOTE = "Once per server start; the rest of the page works meanwhile."


class BackgroundLoad(BackgroundJob):
    """`load(on_step)` once in a daemon thread; what it loads lands in a cached resource, which
    the page then opens at once (so the thread keeps no reference to it)."""

    name = "lifecycle-load"

    def __init__(self, load: Callable[[OnStep], object]) -> None:
        super().__init__()
        self._load = load

    def work(self, on_step: OnStep) -> None:
        self._load(on_step)


def ready_ui(job: BackgroundJob, what: str, settle_s: float = 0.3) -> bool:
    """True once `job` has finished well. Otherwise its status (or its error, with Try again)
    is drawn here and the caller draws the rest of the page without what it loads.

    A load that is quick (already in memory) ends within `settle_s`: no status flashes for it.
    """
    if not job.running and not job.finished:
        job.start()
        job.wait(settle_s)
    if job.finished and not job.error:
        return True
    if job.error:
        show_error(f"{what} failed: {job.error}")
        if st.button("Try again", key=Keys.BACKGROUND_RETRY + what):
            job.start()
            st.rerun()
        return False
    _status(job, what)
    return False


@st.fragment(run_every=1.0)
def _status(job: BackgroundJob, what: str) -> None:
    """The load's progress, redrawn each second; the whole page reruns when it ends (and this
    fragment is then no longer drawn, so it stops polling)."""
    if job.finished:
        st.rerun(scope="app")
    elapsed = time.monotonic() - job.started
    st.progress(
        min(max(job.done, 0.0), 1.0),
        text=f"{md_escape(what)}: {md_escape(job.what)} · {elapsed:.0f} s. {STATUS_NOTE}",
    )
