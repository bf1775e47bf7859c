"""The app is offline and private: a walk through every page makes no request off this machine."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import TIMEOUT, browser_tab, main, wait_idle

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-extension"}
# Every page of the app by its URL path (app_pages/<name>.py); "" is Home.
PAGES = [
    "",
    "scope",
    "model_selection",
    "playground",
    "finetune",
    "align",
    "evaluate",
    "deploy",
    "rag",
    "plan",
    "settings",
    "glossary",
    "present",
]


def off_machine(url: str) -> bool:
    """True for a URL that would leave this machine."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return False
    return (parts.hostname or "") not in LOOPBACK


def refuse_off_machine(page: Page) -> list[str]:
    """Abort every request of the page's context that would leave this machine; return them."""
    leaks: list[str] = []

    def guard(route: Route) -> None:
        if off_machine(route.request.url):
            leaks.append(route.request.url)
            route.abort()  # never let a test reach the internet either
        else:
            route.continue_()

    page.context.route("**/*", guard)
    return leaks


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory, embedded_models):
    base = with_model(
        tmp_path_factory.mktemp("offline-app"),
        embedded_models,
        "Offline walk",
        task="summarization",
    )
    with serve(base) as url:
        yield url


def test_every_page_stays_on_this_machine(browser, offline_app):
    with browser_tab(browser) as page:
        leaks = refuse_off_machine(page)
        page.goto(offline_app)
        expect(main(page).get_by_role("heading", name="Lifecycle")).to_be_visible(timeout=60_000)
        expect(main(page).get_by_text("Project: Offline walk")).to_be_visible(timeout=TIMEOUT)
        for path in PAGES:
            page.goto(f"{offline_app}/{path}")
            wait_idle(page, timeout=180_000)  # a first visit may load the embedded model
            assert page.locator('[data-testid="stException"]').count() == 0, path
            # Headless Chromium does not fetch favicons, so check every linked resource too.
            linked = page.eval_on_selector_all(
                "link[href], script[src], img[src], iframe[src], source[src]",
                "els => els.map(e => e.href || e.src)",
            )
            leaks += [f"{path or 'home'}: {u}" for u in linked if off_machine(u)]
    assert leaks == [], "requests or links off this machine:\n" + "\n".join(leaks)
