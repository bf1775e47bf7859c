"""Small helpers shared by the page tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def goto(at: AppTest, page: str) -> AppTest:
    """Switch to a page (e.g. 'app_pages/scope.py') and check it ran without an exception."""
    at.switch_page(page).run()
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
    return at
