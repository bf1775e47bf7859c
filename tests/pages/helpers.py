"""Small helpers shared by the page tests."""

from __future__ import annotations

import threading

from streamlit.testing.v1 import AppTest

from components.background import STATUS_NOTE, BackgroundLoad

LOAD_WAIT = 600  # s: a first load of torch and a model on a loaded machine


def goto(at: AppTest, page: str) -> AppTest:
    """Switch to a page (e.g. 'app_pages/scope.py') and check it ran without an exception;
    background loads it started are waited for (see `settle`)."""
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return settle(at)


def settle(at: AppTest) -> AppTest:
    """Wait for the background loads (a model, the vector store) a run started and run again
    until none is in view: the page a browser shows once its status fragment has rerun it."""
    for _ in range(10):
        for thread in threading.enumerate():
            if thread.name == BackgroundLoad.name:
                thread.join(LOAD_WAIT)
        if not any(STATUS_NOTE in p.proto.text for p in at.get("progress")):
            return at
        at.run()
        assert not at.exception, at.exception
    return at


def texts(elements) -> list[str]:
    """The values (text) of a list of elements."""
    return [e.value for e in elements]


def button(at: AppTest, label: str):
    """The one button whose label starts with `label` (buttons without a key)."""
    found = [b for b in at.button if b.label.startswith(label)]
    assert len(found) == 1, [b.label for b in at.button]
    return found[0]


def rerun(target) -> AppTest:
    """Run the script again (`target`: the app or an element just used) and check it raised
    nothing; returns the app."""
    at = target.run()
    assert not at.exception, at.exception
    return settle(at)


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Open one of a page's lazy tabs (`st.tabs(key=..., on_change="rerun")`), as a click does:
    only the open tab's content runs."""
    at.session_state[key] = label
    return rerun(at)
