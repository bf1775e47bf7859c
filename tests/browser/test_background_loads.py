"""First visits on a fresh server: Fine-tune and RAG draw while their model, embedder and vector
store load in the background, then rerun by themselves into the full page, without an error."""

from __future__ import annotations

from playwright.sync_api import expect

from components.background import STATUS_NOTE
from tests.browser.conftest import serve, with_model
from tests.browser.ui import TIMEOUT, browser_tab, main, wait_idle

LOADED = 600_000  # ms: torch, the model and the embedder on a busy machine


def test_fine_tune_then_rag_load_in_the_background(browser, embedded_models, tmp_path):
    base = with_model(tmp_path, embedded_models, "First visits", "summarization")
    with serve(base) as fresh_app, browser_tab(browser) as page:  # nothing loaded yet
        page.goto(f"{fresh_app}/finetune")
        wait_idle(page)  # the page settles while the model loads
        app = main(page)
        expect(app.get_by_role("heading", name="3 · Adapt: fine-tune")).to_be_visible()
        expect(app.get_by_text("Base model", exact=True)).to_be_visible()
        # The status fragment reruns the page when the model is in: the real settings follow.
        expect(app.get_by_role("heading", name="Before launch")).to_be_visible(timeout=LOADED)
        expect(app.get_by_text("Trainable parameters")).to_be_visible(timeout=TIMEOUT)
        wait_idle(page)
        expect(app.get_by_text(STATUS_NOTE)).to_have_count(0)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)

        page.goto(f"{fresh_app}/rag")
        wait_idle(page)
        expect(app.get_by_role("heading", name="7 · Infrastructure: RAG and tools")).to_be_visible()
        expect(app.get_by_text("Collection", exact=True)).to_be_visible(timeout=LOADED)
        wait_idle(page)
        expect(app.get_by_text(STATUS_NOTE)).to_have_count(0)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
