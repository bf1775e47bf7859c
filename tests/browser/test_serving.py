"""A real browser switches the playground to an OpenAI-compatible endpoint (a llama.cpp server)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import Steps, browser_tab, go_to, main, tab, wait_idle
from tests.conftest import API_KEY

PROJECT = "Endpoint demo"
KEY_NAME = "LLAMA_TEST_KEY"  # the server process reads the key from this variable
ANSWER = 300_000  # ms: the llama.cpp server answers in about a second; room for a busy machine


@pytest.fixture(scope="module")
def endpoint_url(tmp_path_factory, embedded_models, llama_url):
    """A server whose settings hold an endpoint to the session's llama.cpp server."""
    base = with_model(
        tmp_path_factory.mktemp("browser-serving"), embedded_models, PROJECT, "summarization"
    )
    endpoint = {"name": "llama", "base_url": llama_url, "model": "smollm2", "key_name": KEY_NAME}
    (base / "lifecycle-home" / "settings.json").write_text(json.dumps({"endpoints": [endpoint]}))
    with serve(base, {KEY_NAME: API_KEY}) as url:
        yield url


@pytest.fixture(scope="module")
def serving_page(browser, endpoint_url):
    """One browser tab for the steps below."""
    with browser_tab(browser) as page:
        yield page


def test_the_playground_streams_from_an_endpoint(serving_page: Page, endpoint_url: str) -> None:
    page, shots = serving_page, Steps(serving_page, 70, "serving")
    page.goto(endpoint_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "3 Adapt: playground", "3 · Adapt: prompt playground")
    model = (
        main(page)
        .locator('[data-testid="stSelectbox"]')
        .filter(has=page.get_by_text("Model", exact=True))
    )
    model.get_by_role("combobox").click()
    page.get_by_role("option", name="Endpoint llama: smollm2").click()
    wait_idle(page)
    expect(model.get_by_role("combobox")).to_have_value("Endpoint llama: smollm2")
    shots.done("endpoint-picked")

    run = tab(page, "Run")
    run.get_by_role("button", name="Run", exact=True).click()
    answer = run.locator('[data-testid="stChatMessage"]')
    expect(answer).to_have_count(1, timeout=ANSWER)
    expect(answer).to_have_text(re.compile(r"\w"), timeout=ANSWER)
    wait_idle(page, ANSWER)
    runtime = re.compile(  # a word joiner keeps the URL from being linked
        "smollm2 at llama · OpenAI-compatible endpoint http\u2060?://127\\.0\\.0\\.1:\\d+/v1"
    )
    expect(run.get_by_text(runtime)).to_be_visible()
    # llama.cpp reports no usage while streaming: the page marks the counts as estimates
    expect(run.get_by_text(re.compile(r"^≈ \d+ prompt \+ \d+ completion tokens"))).to_be_visible()
    assert API_KEY not in page.content()
    shots.done("endpoint-answer", ANSWER)


def test_settings_show_the_endpoint_and_its_health(serving_page: Page, endpoint_url: str) -> None:
    page, shots = serving_page, Steps(serving_page, 72, "settings")
    go_to(page, "Settings", "Settings")
    body = main(page)
    expect(body.get_by_text(f"llama · smollm2 · key from {KEY_NAME}")).to_be_visible()
    body.get_by_role("button", name="Test connection").first.click()
    wait_idle(page, ANSWER)
    expect(body.get_by_text(re.compile(r"^Connected: smollm2 answers \(\d+ ms"))).to_be_visible()
    expect(body.get_by_text("Now the embedded model runs on transformers.")).to_be_visible()
    assert API_KEY not in page.content()
    shots.done("health", ANSWER)
