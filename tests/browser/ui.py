"""Helpers shared by the browser tests: waiting for Streamlit, tabs, numbered screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from components.background import STATUS_NOTE

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT = 60_000  # ms, for any one thing to appear (generous: CI machines may be busy)


def main(page: Page) -> Locator:
    """The main area of the app (not the sidebar)."""
    return page.locator('[data-testid="stMain"]')


def wait_idle(page: Page, timeout: int = TIMEOUT) -> None:
    """Wait until Streamlit has finished the run that the last action caused.

    The 'Running...' status widget only shows for runs longer than 0.5 s, so also wait for the
    app root's script state (the attribute Streamlit's own end-to-end tests use). A rerun starts
    a moment after the event that triggers it, hence the short first pause.
    """
    page.wait_for_timeout(200)
    app = page.locator('[data-testid="stApp"]')
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=timeout)
    page.wait_for_timeout(100)


def wait_loaded(page: Page, timeout: int) -> None:
    """Wait until the page's background loads (model, embedder, vector store) have ended and it
    has rerun into its full form: between their status polls the page looks idle, and the rerun
    that ends them redraws (detaches) whatever a test was about to click."""
    wait_idle(page, timeout)
    expect(main(page).get_by_text(STATUS_NOTE)).to_have_count(0, timeout=timeout)
    wait_idle(page, timeout)


def go_to(page: Page, title: str, heading: str) -> None:
    """Follow a link in the sidebar navigation and wait for the page's title to be drawn."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    expect(main(page).get_by_role("heading", name=heading, exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    wait_idle(page)


def tab(page: Page, name: str) -> Locator:
    """Open one of the page's tabs and return its panel."""
    main(page).get_by_role("tab", name=name, exact=True).click()
    panel = main(page).get_by_role("tabpanel", name=name, exact=True)
    expect(panel).to_be_visible()
    return panel


@contextmanager
def browser_tab(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (own cookies, own Streamlit session) with one page."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(TIMEOUT)
    try:
        yield context.new_page()
    finally:
        context.close()


class Steps:
    """Screenshots NN-<module>-<step>.png, each taken after checking for a Streamlit exception."""

    def __init__(self, page: Page, first: int, module: str):
        self.page, self.n, self.module = page, first, module
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"??-{module}-*.png"):  # only this module's own shots
            old.unlink()

    def done(self, name: str, timeout: int = TIMEOUT) -> None:
        wait_idle(self.page, timeout)
        errors = self.page.locator('[data-testid="stException"]')
        if errors.count():
            pytest.fail(f"Streamlit exception after {name!r}:\n" + errors.first.inner_text())
        path = ARTIFACTS / f"{self.n:02d}-{self.module}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.n += 1
