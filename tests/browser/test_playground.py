"""The playground in a real browser with the real embedded SmolLM2: run, compare, save a version."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Locator, Page, expect  # noqa: E402

from tests.browser.conftest import VIEWPORT, serve, with_model  # noqa: E402
from tests.browser.test_walk import ARTIFACTS, TIMEOUT, go_to, main, wait_idle  # noqa: E402

PROJECT = "Playground demo"
DIALOGUE = "Alice: Shall we meet at noon?\nBob: Yes, at the cafe."
VERSION = "browser v1"
GENERATION = 240_000  # ms: model load plus up to 128 tokens per answer at ~15 tokens/s on 2 cores
FIRST_SHOT = 20  # screenshots 20-29 are this module's (test_walk numbers from 01)


@pytest.fixture(scope="module")
def play_url(tmp_path_factory, embedded_models):
    """A server whose data folder has the embedded model and a summarization project."""
    base = tmp_path_factory.mktemp("browser-play_url")
    with serve(with_model(base, embedded_models, PROJECT, "summarization")) as url:
        yield url


@pytest.fixture(scope="module")
def play_page(browser, play_url):
    """One browser tab for the ordered steps below."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


class Shots:
    """Screenshots numbered from 20, after checking that no Streamlit exception is shown."""

    def __init__(self, page: Page):
        self.page, self.n = page, FIRST_SHOT
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("2?-playground-*.png"):
            old.unlink()

    def done(self, name: str, timeout: int = TIMEOUT) -> None:
        wait_idle(self.page, timeout)
        errors = self.page.locator('[data-testid="stException"]')
        if errors.count():
            pytest.fail(f"Streamlit exception after {name!r}:\n" + errors.first.inner_text())
        path = ARTIFACTS / f"{self.n}-playground-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.n += 1


def tab(page: Page, name: str) -> Locator:
    """Open one of the playground's tabs and return its panel."""
    main(page).get_by_role("tab", name=name, exact=True).click()
    panel = main(page).get_by_role("tabpanel", name=name, exact=True)
    expect(panel).to_be_visible()
    return panel


def answers(panel: Locator) -> Locator:
    """The assistant chat messages in a panel."""
    return panel.locator('[data-testid="stChatMessage"]').filter(
        has=panel.page.locator('[data-testid="stChatMessageAvatarAssistant"]')
    )


def test_playground_with_the_embedded_model(play_page: Page, play_url: str) -> None:
    page, shots = play_page, Shots(play_page)
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
