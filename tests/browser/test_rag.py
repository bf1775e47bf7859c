"""The RAG page in a real browser: upload a document, ask about it, see the sources."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import Steps, browser_tab, go_to, main, tab, wait_idle, wait_loaded

PROJECT = "RAG demo"
SLOW = 900_000  # ms: the starter collection, the model load and two answers, on a loaded CPU
DOC = (
    "# Zephyr-9 field notes\n\n"
    "The Zephyr-9 warehouse robot runs for 14 hours on one battery charge.\n"
    "It lifts pallets of up to 800 kg and was designed in Tampere by Kallio Robotics.\n"
    "<script>alert('never runs')</script>\n"
)


@pytest.fixture(scope="module")
def rag_url(tmp_path_factory, embedded_models):
    base = tmp_path_factory.mktemp("browser-rag")
    with serve(with_model(base, embedded_models, PROJECT)) as url:
        yield url


@pytest.fixture(scope="module")
def rag_page(browser, rag_url):
    with browser_tab(browser) as page:
        yield page


def test_upload_ask_and_see_sources(rag_page: Page, rag_url: str, tmp_path) -> None:
    page, shots = rag_page, Steps(rag_page, 50, "rag")
    page.goto(rag_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "7 Infrastructure: RAG and tools", "7 · Infrastructure: RAG and tools")
    # The embedder, the store and the starter collection load in the background: the page is
    # idle between status polls, so wait for the collection itself.
    collection = (
        main(page)
        .locator('[data-testid="stSelectbox"]')
        .filter(has=page.get_by_text("Collection", exact=True))
    )
    expect(collection.get_by_role("combobox")).to_have_value(
        re.compile(r"^Lifecycle guides"), timeout=SLOW
    )
    wait_loaded(page, SLOW)  # and the answering model: its rerun would redraw the tabs

    docs = tab(page, "Documents")
    doc = tmp_path / "zephyr notes.md"
    doc.write_text(DOC, encoding="utf-8")
    docs.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(doc))
    wait_idle(page, SLOW)
    docs = tab(page, "Documents")  # the upload's rerun may reopen the first tab
    expect(docs.get_by_text(re.compile(r"zephyr notes\.md: \d+ chunks?"))).to_be_visible()
    docs.get_by_role("button", name="Embed and add").click()
    wait_idle(page, SLOW)
    expect(page.get_by_text(re.compile(r"Added 1 document "))).to_be_visible()
    shots.done("uploaded")

    ask = tab(page, "Ask")
    question = ask.get_by_label("Question")
    expect(question).to_be_visible(timeout=SLOW)  # the answering model loads in the background
    question.fill("How many hours does the Zephyr-9 robot run on one charge?")
    question.press("Enter")
    wait_idle(page)
    ask.get_by_role("button", name="Ask").click()
    first = ask.get_by_text(re.compile(r"^\[1\] zephyr notes\.md · similarity 0\.\d\d"))
    expect(first).to_be_visible(timeout=SLOW)
    wait_idle(page, SLOW)
    expect(ask.get_by_text("With retrieval", exact=True)).to_be_visible()
    first.click()  # the chunk, highlighted in its document; the script shown as text
    expect(ask.get_by_text(re.compile(r"alert\('never runs'\)"))).to_be_visible()
    shots.done("answered")
