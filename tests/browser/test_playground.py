"""The playground in a real browser with the real embedded SmolLM2: run, compare, save a version."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import (
    Steps,
    browser_tab,
    go_to,
    main,
    tab,
    wait_idle,
)

PROJECT = "Playground demo"
DIALOGUE = "Alice: Shall we meet at noon?\nBob: Yes, at the cafe."
VERSION = "browser v1"
GENERATION = 600_000  # ms: model load plus up to 128 tokens per answer at ~15 tokens/s on 2 cores


@pytest.fixture(scope="module")
def play_url(tmp_path_factory, embedded_models):
    """A server whose data folder has the embedded model and a summarization project."""
    base = tmp_path_factory.mktemp("browser-play_url")
    with serve(with_model(base, embedded_models, PROJECT, "summarization")) as url:
        yield url


@pytest.fixture(scope="module")
def play_page(browser, play_url):
    """One browser tab for the ordered steps below."""
    with browser_tab(browser) as page:
        yield page


def answers(panel: Locator) -> Locator:
    """The assistant chat messages in a panel."""
    return panel.locator('[data-testid="stChatMessage"]').filter(
        has=panel.page.locator('[data-testid="stChatMessageAvatarAssistant"]')
    )


def test_playground_with_the_embedded_model(play_page: Page, play_url: str) -> None:
    page, shots = play_page, Steps(play_page, 20, "playground")
    page.goto(play_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "3 Adapt: playground", "3 · Adapt: prompt playground")
    template = main(page).get_by_label("Template ({variables} are filled below)")
    expect(template).to_have_value("Dialogue:\n{input}\nSummary:")

    # Run: the streamed answer, its token counts, and the exact prompt.
    box = main(page).get_by_label("{input}", exact=True)
    box.fill(DIALOGUE)
    box.press("Control+Enter")
    wait_idle(page)
    expect(box).to_have_value(DIALOGUE)
    shots.done("prompt")
    run = tab(page, "Run")
    run.get_by_role("button", name="Run", exact=True).click()
    answer = answers(run)
    expect(answer).to_have_count(1, timeout=GENERATION)
    expect(answer).to_have_text(re.compile(r"\w"), timeout=GENERATION)
    wait_idle(page, GENERATION)
    expect(run.get_by_text(re.compile(r"prompt \+ \d+ completion tokens"))).to_be_visible()
    expect(run.get_by_text(re.compile(r"SmolLM2-135M-Instruct .* on cpu"))).to_be_visible()
    assert answer.inner_text().strip()
    answer.scroll_into_view_if_needed()
    shots.done("run", GENERATION)

    # Compare: variants A (0-shot) and B (3-shot) on the same input.
    compare = tab(page, "Compare")
    compare.get_by_role("button", name="Run all variants").click()
    both = answers(compare)
    expect(both).to_have_count(2, timeout=GENERATION)
    for i in range(2):
        expect(both.nth(i)).to_have_text(re.compile(r"\w"), timeout=GENERATION)
    wait_idle(page, GENERATION)
    expect(compare.get_by_text(re.compile(r"completion tokens"))).to_have_count(2)
    compare.scroll_into_view_if_needed()
    shots.done("compare", GENERATION)

    # Versions: save the current prompt under a name; it is listed.
    versions = tab(page, "Versions")
    expect(versions.get_by_text("No versions yet")).to_be_visible()
    versions.get_by_label("Version name").fill(VERSION)
    versions.get_by_role("button", name="Save the current prompt as a version").click()
    wait_idle(page)
    expect(page.get_by_text(f"Saved version “{VERSION}”")).to_be_visible()
    expect(versions.locator('[data-testid="stDataFrame"]')).to_contain_text(VERSION)
    picker = versions.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text("Version", exact=True)
    )
    expect(picker.get_by_role("combobox")).to_have_value(VERSION)
    expect(versions.get_by_label("Version name")).to_have_value("")
    shots.done("versions")

    # History: the three runs are kept with their labels.
    history = tab(page, "History")
    table = history.locator('[data-testid="stDataFrame"]')
    for label in ("playground", "compare A", "compare B"):
        expect(table).to_contain_text(label)
    shots.done("history")
