"""A new user's path in a real browser: follow "Next" from Scope to the plan, then read the
HTML report offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lifecycle.store import Store
from tests.browser.conftest import serve, with_model
from tests.browser.ui import ARTIFACTS, TIMEOUT, Steps, browser_tab, go_to, main, wait_idle

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
MODEL = {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "advisor": {"budget_usd": 5000.0}}
NEXT = re.compile(r"Next: (.+?)\. ")


@pytest.fixture(scope="module")
def guided_url(tmp_path_factory, embedded_models):
    """A server with one project scoped to summaries and a chosen model (embedded one linked)."""
    base = with_model(tmp_path_factory.mktemp("guided"), embedded_models, "Guided", "summarization")
    store = Store(base / "lifecycle-home" / "lifecycle.sqlite")
    [project] = store.list_projects()
    store.put_record(project.id, "model", MODEL)
    with serve(base) as url:
        yield url


def test_follow_next_from_scope_to_the_plan(browser, guided_url):
    with browser_tab(browser) as page:
        steps = Steps(page, 1, "guided")
        page.goto(guided_url)
        progress = page.locator('[data-testid="stSidebarUserContent"]')
        expect(progress.get_by_text("1 Define scope: decided")).to_be_visible(timeout=TIMEOUT)
        expect(progress.get_by_text("5 Evaluate: not started")).to_be_visible(timeout=TIMEOUT)
        expect(progress.get_by_text("2 Select a model: decided")).to_be_visible()
        expect(main(page).get_by_text("Carry on: 3 Adapt: playground.")).to_be_visible()
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
        assert visited[0] == "3 Adapt: playground"  # scope and model are decided already
        assert visited[-3:] == ["6 Deploy", "7 Infrastructure: RAG and tools", "Plan and report"]

        # The HTML report: downloaded, then opened with every network request refused.
        button = main(page).get_by_role("button", name=re.compile("Download report \\(HTML"))
        with page.expect_download(timeout=180_000) as download:
            button.click()
        html = Path(download.value.path()).read_text(encoding="utf-8")
        read_offline(browser, html, steps)


def read_offline(browser, html: str, steps: Steps) -> None:
    """Open the report with the network blocked: every chart draws, no request leaves."""
    expected = html.count('class="plotly-graph-div"')
    assert expected >= 3  # Gantt, memory, build-or-reuse cost (the project has a model)
    with browser_tab(browser) as report:
        tried = []

        def refuse(route):
            tried.append(route.request.url)
            route.abort()

        report.context.route("**/*", refuse)
        report.set_content(html, wait_until="load")
        plots = report.locator(".js-plotly-plot")
        expect(plots).to_have_count(expected, timeout=TIMEOUT)
        drawn = report.locator(".js-plotly-plot svg.main-svg")
        expect(drawn.first).to_be_visible(timeout=TIMEOUT)
        for i in range(expected):
            assert plots.nth(i).locator("svg.main-svg").count() >= 1, i
        report.screenshot(path=str(ARTIFACTS / f"{steps.n:02d}-guided-report.png"), full_page=True)
        assert tried == [], tried
