"""The five-minute demo, as a new user does it: open the sample project on Home, follow "Next"
from Scope to Infrastructure, turn every Present screen, then read the HTML report offline."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lifecycle.stages import STAGES
from tests.browser.conftest import serve
from tests.browser.test_guided import HEADINGS, NEXT, read_offline
from tests.browser.test_offline import refuse_off_machine
from tests.browser.ui import TIMEOUT, Steps, browser_tab, go_to, main, wait_idle, wait_loaded

STATUS = re.compile(r"^(\d) (.+): (decided|in progress|not started|not needed)$")
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "demo-present.png"
SLOW = 180_000  # ms: a page may load the embedded model on a busy machine


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, embedded_models):
    """A fresh data folder with only the embedded model linked: no project yet."""
    from tests.conftest import link_embedded

    base = tmp_path_factory.mktemp("demo")
    link_embedded(embedded_models, base / "lifecycle-home")
    with serve(base) as url:
        yield url


def tracker(page) -> dict[str, str]:
    """The sidebar tracker as {stage number: status}."""
    sidebar = page.locator('[data-testid="stSidebarUserContent"]')
    found = {}
    for line in sidebar.inner_text().splitlines():
        if m := STATUS.match(line.strip()):
            found[m.group(1)] = m.group(3)
    return found


def test_the_five_minute_demo(browser, demo_url):
    with browser_tab(browser) as page:
        leaks = refuse_off_machine(page)
        steps = Steps(page, 1, "demo")
        page.goto(demo_url)
        main(page).get_by_role("button", name="Open the sample project").click()
        expect(main(page).get_by_text(re.compile("Recorded by this app.s own code"))).to_be_visible(
            timeout=SLOW
        )
        steps.done("home-sample", SLOW)
        expect(page.locator('[data-testid="stSidebarUserContent"]')).to_contain_text(
            "1 Define scope: decided", timeout=TIMEOUT
        )
        states = tracker(page)
        assert len(states) == len(STAGES), states
        # The sample has evidence at every stage: nothing reads as untouched.
        assert "not started" not in states.values(), states
        assert states["7"] == "in progress"  # its gate's proposal is left for the demo

        go_to(page, "1 Scope", "1 · Define the scope")
        visited: list[str] = []
        while "7 Infrastructure: RAG and tools" not in visited:
            link = main(page).get_by_role("link", name=NEXT)
            expect(link).to_have_count(1, timeout=SLOW)
            title = NEXT.search(link.inner_text()).group(1)
            assert title not in visited, f"Next goes round in a loop: {visited + [title]}"
            visited.append(title)
            link.click()
            heading = main(page).get_by_role("heading", name=HEADINGS[title], exact=True)
            expect(heading).to_be_visible(timeout=SLOW)
            steps.done(re.sub(r"\W+", "-", title).strip("-").lower(), SLOW)
        # Next skips the decided stages: Align (in progress), then Infrastructure.
        assert visited == ["4 Align", "7 Infrastructure: RAG and tools"], visited

        # The retrieval gate, decided live: Accept turns the stage "decided".
        # The page's vector store and answering model load in the background and rerun it when
        # they are ready, which redraws the button: wait for that before clicking.
        wait_loaded(page, SLOW)
        main(page).get_by_role("button", name="Accept").click()
        expect(main(page).get_by_text(re.compile("^Accepted on "))).to_be_visible(timeout=TIMEOUT)
        expect(page.locator('[data-testid="stSidebarUserContent"]')).to_contain_text(
            "7 Infrastructure: decided", timeout=TIMEOUT
        )
        steps.done("retrieval-accepted")
        states = tracker(page)

        go_to(page, "Present", "1 · Define scope")
        for i, stage in enumerate(STAGES):
            if i:
                page.keyboard.press("ArrowRight")
            title = f"{stage.number} · {stage.title}"
            expect(main(page).get_by_role("heading", name=title, exact=True)).to_be_visible(
                timeout=TIMEOUT
            )
            wait_idle(page)
            expect(main(page).get_by_text(re.compile(r"^(Next: |To start, open )"))).to_be_visible()
            # A decided stage shows the one chart its decision rests on (scope: the plan); Align,
            # in progress with preferences but no DPO run, has no chart to show.
            charts = 1 if states[str(stage.number)] == "decided" else 0
            expect(main(page).locator(".js-plotly-plot")).to_have_count(charts, timeout=TIMEOUT)
            steps.done(f"present-{stage.id}")
            if stage.id == "evaluate" and os.environ.get("LIFECYCLE_UPDATE_DOCS") == "1":
                page.screenshot(path=str(DOCS_SHOT))  # the README's five-minute demo

        go_to(page, "Plan and report", "Plan and report")
        button = main(page).get_by_role("button", name=re.compile("Download report \\(HTML"))
        with page.expect_download(timeout=SLOW) as download:
            button.click()
        html = Path(download.value.path()).read_text(encoding="utf-8")
    assert leaks == [], leaks
    assert "<h2>Lineage</h2>" in html and "Sample: support-dialogue summaries" in html
    read_offline(browser, html, steps)
