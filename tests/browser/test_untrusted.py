"""A real browser: a model answer and a project name written in hostile Markdown stay text."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from lifecycle.text import WORD_JOINER
from tests.browser.conftest import serve
from tests.browser.ui import Steps, browser_tab, go_to, main, tab, wait_idle
from tests.hostile_servers import MODEL, hostile_answer, markdown_endpoint, recorder

ANSWER_MS = 60_000  # the fake endpoint answers at once; room for a busy machine
# Their images and links point at a loopback server that records every request: the page must
# show the Markdown as typed, and that server must receive nothing.


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The app with a Markdown project name and a Markdown-answering endpoint, and the trap."""
    with recorder() as (trap, requests), markdown_endpoint(hostile_answer(trap)) as endpoint:
        base = tmp_path_factory.mktemp("browser-untrusted")
        data = base / "lifecycle-home"
        data.mkdir()
        from lifecycle.store import Store

        store = Store(data / "lifecycle.sqlite")
        project = store.create_project(f"**bold** ![n]({trap}/name) [l]({trap}/name-link)")
        store.put_record(project.id, "scope", {"primary_task": "summarization"})
        settings = {"endpoints": [{"name": "fake", "base_url": endpoint, "model": MODEL}]}
        (data / "settings.json").write_text(json.dumps(settings))
        with serve(base) as url:
            yield url, trap, requests, project.name


@pytest.fixture(scope="module")
def hostile_page(browser, hostile):
    """One browser tab for the steps below."""
    with browser_tab(browser) as page:
        yield page


def visible(locator) -> str:
    """The text a reader sees (word joiners are invisible)."""
    return locator.inner_text().replace(WORD_JOINER, "")


def assert_no_link_or_image(page: Page, trap: str, shown) -> None:
    """Nothing on the page links to or loads from the trap; no link or image in `shown`."""
    for selector in (f'a[href^="{trap}"]', f'img[src^="{trap}"]'):
        assert page.locator(selector).count() == 0, selector
    assert shown.locator("a[href*='//'], img").count() == 0  # a heading's own #anchor is fine


def test_hostile_markdown_stays_text_and_fetches_nothing(hostile_page: Page, hostile) -> None:
    url, trap, requests, name = hostile
    page, shots = hostile_page, Steps(hostile_page, 90, "untrusted")
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.startswith(trap) else None)
    page.goto(url)
    heading = main(page).locator("h3").filter(has_text="Project:")
    expect(heading).to_have_count(1, timeout=30_000)
    assert visible(heading) == f"Project: {name}"
    assert_no_link_or_image(page, trap, heading)
    shots.done("project-name")

    go_to(page, "3 Adapt: playground", "3 · Adapt: prompt playground")
    model = (
        main(page)
        .locator('[data-testid="stSelectbox"]')
        .filter(has=page.get_by_text("Model", exact=True))
    )
    model.get_by_role("combobox").click()
    page.get_by_role("option", name=f"Endpoint fake: {MODEL}").click()
    wait_idle(page)
    run = tab(page, "Run")
    run.get_by_role("button", name="Run", exact=True).click()
    answer = run.locator('[data-testid="stChatMessage"]')
    expect(answer).to_contain_text("bold", timeout=ANSWER_MS)
    wait_idle(page, ANSWER_MS)
    text = visible(answer)
    for shown in (f"![x]({trap}/img)", f"[click]({trap}/link)", f"{trap}/bare"):
        assert shown in text, text
    assert_no_link_or_image(page, trap, answer)
    shots.done("answer")
    page.wait_for_timeout(1000)  # any image request would have left by now
    assert fetched == [] and requests == [], (fetched, requests)
