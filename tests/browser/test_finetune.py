"""The fine-tune page in a real browser: launch a tiny LoRA job, watch it live, see it complete."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import Steps, browser_tab, go_to, main, tab, wait_idle

PROJECT = "Fine-tune demo"
JOB = 900_000  # ms: worker start (imports) plus 60 tiny steps, with room for a loaded machine


@pytest.fixture(scope="module")
def ft_url(tmp_path_factory, embedded_models):
    """A server with one project; the page opens on the embedded model (already converted),
    and the test types the tiny model's folder instead."""
    base = tmp_path_factory.mktemp("browser-finetune")
    with serve(with_model(base, embedded_models, PROJECT)) as url:
        yield url


@pytest.fixture(scope="module")
def ft_page(browser, ft_url):
    with browser_tab(browser) as page:
        yield page


def number(scope: Locator, label: str, value: str) -> None:
    """Type a value into the number input with this label and confirm it."""
    box = scope.locator('[data-testid="stNumberInput"]').filter(
        has=scope.page.get_by_text(label, exact=True)
    )
    field = box.locator("input")
    field.fill(value)
    field.press("Enter")
    wait_idle(scope.page)
    expect(field).to_have_value(value)


def test_launch_a_tiny_job_and_watch_it_complete(ft_page: Page, ft_url: str, tiny_causal) -> None:
    page, shots = ft_page, Steps(ft_page, 40, "finetune")
    page.goto(ft_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "3 Adapt: fine-tune", "3 · Adapt: fine-tune")
    wait_idle(page, 300_000)  # the embedded model loads for the report

    new = tab(page, "New run")
    base = new.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Base model"))
    base.get_by_role("combobox").click()
    page.get_by_role("option", name="Another model (local folder or hub id)").click()
    wait_idle(page, 300_000)
    folder = new.get_by_label("Local folder or hub id")
    folder.fill(str(tiny_causal))
    folder.press("Enter")
    wait_idle(page, 300_000)
    # The tiny tokenizer spells prompts out in bytes: a long window, a short job.
    number(new, "Sequence length (tokens)", "2048")
    number(new, "Max steps (0 = epochs)", "60")
    number(new, "Evaluate and sample every (steps)", "15")
    expect(new.get_by_text("Trainable parameters")).to_be_visible()
    expect(new.get_by_text("Train / validation")).to_be_visible()
    shots.done("report")

    new.get_by_role("button", name="Launch fine-tune").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Fine-tune ft-.* started\."))).to_be_visible()

    runs = tab(page, "Runs (1)")
    progress = runs.locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text(re.compile(r"step \d+/60"), timeout=JOB)
    chart = runs.locator('[data-testid="stPlotlyChart"]')
    expect(chart).to_have_count(1, timeout=JOB)  # the loss chart appears while it trains
    shots.done("running")
    expect(runs.get_by_text("completed").first).to_be_visible(timeout=JOB)
    expect(progress).to_contain_text("step 60/60")
    table = runs.locator('[data-testid="stDataFrame"]')
    expect(table.first).to_be_visible()
    shots.done("completed")

    tried = tab(page, "Try it and evaluate")
    expect(tried.get_by_role("button", name="Generate with both")).to_be_visible()
    shots.done("try-it")
