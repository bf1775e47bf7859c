"""A new user's path in a real browser: follow "Next" from Scope to the plan."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import TIMEOUT, Steps, browser_tab, go_to, main, wait_idle

# Each page's heading, by the title its Next link names.
HEADINGS = {
    "2 Model selection": "2 · Select a model",
    "3 Adapt: playground": "3 · Adapt: prompt playground",
    "3 Adapt: fine-tune": "3 · Adapt: fine-tune",
    "4 Align": "4 · Align",
    "5 Evaluate": "5 · Evaluate",
    "6 Deploy": "6 · Deploy",
    "7 Infrastructure: RAG and tools": "7 · Infrastructure: RAG and tools",
    "Plan and report": "Plan and report",
}
NEXT = re.compile(r"Next: (.+?)\. ")


@pytest.fixture(scope="module")
def guided_url(tmp_path_factory, embedded_models):
    """A server with one project scoped to summaries (the embedded model linked)."""
    base = with_model(tmp_path_factory.mktemp("guided"), embedded_models, "Guided", "summarization")
    with serve(base) as url:
        yield url


def test_follow_next_from_scope_to_the_plan(browser, guided_url):
    with browser_tab(browser) as page:
        steps = Steps(page, 1, "guided")
        page.goto(guided_url)
        progress = page.locator('[data-testid="stSidebarUserContent"]')
        expect(progress.get_by_text("1 Define scope: decided")).to_be_visible(timeout=TIMEOUT)
        expect(progress.get_by_text("5 Evaluate: not started")).to_be_visible(timeout=TIMEOUT)
        expect(main(page).get_by_text("Carry on: 2 Model selection.")).to_be_visible()
        steps.done("home")
        go_to(page, "1 Scope", "1 · Define the scope")
        visited = []
        while True:
            link = main(page).get_by_role("link", name=NEXT)
            expect(link).to_have_count(1, timeout=TIMEOUT)
            title = NEXT.search(link.inner_text()).group(1)
            visited.append(title)
            link.click()
            heading = main(page).get_by_role("heading", name=HEADINGS[title], exact=True)
            expect(heading).to_be_visible(timeout=180_000)  # the playground may load a model
            wait_idle(page, 180_000)
            steps.done(re.sub(r"\W+", "-", title).strip("-").lower(), 180_000)
            if title == "Plan and report":
                break
        assert visited[:2] == ["2 Model selection", "3 Adapt: playground"]
        assert visited[-3:] == ["6 Deploy", "7 Infrastructure: RAG and tools", "Plan and report"]
