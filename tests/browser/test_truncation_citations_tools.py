"""In a real browser, on the embedded model through llama.cpp: an over-long input cut
at its end with signs of life while the prompt is read, citations that point at sources, and the
calculator tool with the model's raw reply and the expression it read."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import Steps, browser_tab, go_to, main, tab, wait_idle, wait_loaded

PROJECT = "Honest demo"
SLOW = 900_000  # ms: an 8,000-token prompt, the starter collection and answers, on a busy CPU
TURN = "Alice: Did you send the quarterly report to the client yet?\nBob: Not yet, tonight.\n"
LONG = TURN * 700  # about 14,000 tokens: over the 8,192-token window


@pytest.fixture(scope="module")
def honest_url(tmp_path_factory, embedded_models):
    pytest.importorskip("llama_cpp")  # the fast path: `make test` builds it
    base = tmp_path_factory.mktemp("browser-honest")
    env = {"LIFECYCLE_EMBEDDED_RUNTIME": "llama.cpp"}
    with serve(with_model(base, embedded_models, PROJECT, "summarization"), env) as url:
        yield url


@pytest.fixture(scope="module")
def honest_page(browser, honest_url):
    with browser_tab(browser) as page:
        yield page


def sidebar_number(page: Page, label: str) -> Locator:
    return page.locator('[data-testid="stSidebar"]').get_by_label(label, exact=True)


def test_truncation_shows_what_is_sent_and_signs_of_life(honest_page: Page, honest_url: str):
    page, shots = honest_page, Steps(honest_page, 70, "honest")
    page.goto(honest_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "3 Adapt: playground", "3 · Adapt: prompt playground")
    tokens = sidebar_number(page, "Max new tokens")
    tokens.fill("16")
    tokens.press("Enter")
    wait_idle(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("Truncate over-long prompts").click()
    wait_idle(page)
    box = main(page).get_by_label("{input}", exact=True)
    box.fill(LONG)
    box.press("Tab")
    wait_idle(page)

    run = tab(page, "Run")
    run.get_by_role("button", name="Run", exact=True).click()
    expect(run.get_by_text(re.compile(r"^Reading the prompt"))).to_be_visible(timeout=SLOW)
    caption = run.get_by_text(re.compile(r"input tokens dropped to fit the window"))
    expect(caption).to_be_visible(timeout=SLOW)
    wait_idle(page, SLOW)
    expect(run.get_by_text(re.compile(r"^Reading the prompt"))).to_have_count(0)
    run.get_by_text("What is sent to the model").click()
    expect(
        run.get_by_text(re.compile(r"The input is cut to fit: [\d,]+ of its tokens"))
    ).to_be_visible()
    sent = run.locator('[data-testid="stCode"]').last
    text = sent.inner_text()
    assert text.startswith("<|im_start|>system\n")  # the system message is kept
    assert "Dialogue:\nAlice: Did you send" in text  # the template and the input's start
    assert re.search(r"\[…\]\s*Summary:", text)  # the cut, then the template's cue
    shots.done("truncated", SLOW)


def test_citations_point_at_sources(honest_page: Page):
    page, shots = honest_page, Steps(honest_page, 72, "honest-rag")
    go_to(page, "7 Infrastructure: RAG and tools", "7 · Infrastructure: RAG and tools")
    wait_loaded(page, SLOW)  # the store, the starter collection and the model load first
    ask = tab(page, "Ask")
    ask.get_by_role("button", name="Ask").click()
    expect(ask.get_by_text(re.compile(r"^\[1\] .* · similarity"))).to_be_visible(timeout=SLOW)
    wait_idle(page, SLOW)
    sources = ask.get_by_text(re.compile(r"^\[\d+\] .* · similarity \d\.\d\d"))
    labels = [s.inner_text().strip() for s in sources.all()]
    assert len(labels) == 3, labels  # top-3 by default
    answer = ask.locator('[data-testid="stColumn"]').nth(1).inner_text()
    for label in labels:
        number = re.match(r"\[(\d+)\]", label).group(1)
        if "· cited" in label:
            assert f"[{number}" in answer or f", {number}]" in answer, (label, answer)
    stray = {int(n) for n in re.findall(r"\[(\d+)\]", answer)} - {1, 2, 3}
    if stray:
        expect(ask.get_by_text(re.compile(r"those citations point at nothing"))).to_be_visible()
    shots.done("cited", SLOW)


def test_the_calculator_tool_shows_the_reply_and_the_expression(honest_page: Page):
    page, shots = honest_page, Steps(honest_page, 74, "honest-tools")
    tools = tab(page, "Tools (calculator)")
    tools.get_by_role("button", name="Answer both ways").click()
    expect(tools.get_by_text("The model's reply, as written:")).to_be_visible(timeout=SLOW)
    wait_idle(page, SLOW)
    expect(tools.get_by_text("The expression the calculator read:")).to_be_visible()
    expression = tools.locator('[data-testid="stCode"]').first.inner_text()
    assert re.search(r"\d", expression), expression  # an expression, under the grammar
    expect(tools.get_by_text(re.compile(r"^= "))).to_be_visible()
    shots.done("tool", SLOW)
