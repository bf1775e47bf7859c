"""The fine-tune page in a real browser: launch a tiny LoRA job, watch it live, see it complete."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import serve, with_model
from tests.browser.ui import TIMEOUT, Steps, browser_tab, go_to, main, tab, wait_idle, wait_loaded

PROJECT = "Fine-tune demo"
JOB = 900_000  # ms: worker start (imports) plus a few tiny steps, with room for a loaded machine
TASK = "information_retrieval"  # the project's scoped task: the upload form starts on it
CSV = "question,answer\n" + "".join(f"what is {i} ?,it is {i} .\n" for i in range(12))
JSONL = "".join(
    json.dumps({"prompt": f"alice: hi bob ! lunch at noon ? {i}", "completion": "bob greets ."})
    + "\n"
    for i in range(12)
)


@pytest.fixture(scope="module")
def ft_url(tmp_path_factory, embedded_models):
    """A server with one project; the page opens on the embedded model (already converted),
    and the test types the tiny model's folder instead."""
    base = tmp_path_factory.mktemp("browser-finetune")
    with serve(with_model(base, embedded_models, PROJECT, TASK)) as url:
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


def chosen(scope: Locator, label: str) -> Locator:
    """The combobox of the selectbox with this label (its value is what it shows)."""
    box = scope.locator('[data-testid="stSelectbox"]').filter(has=scope.page.get_by_text(label))
    return box.get_by_role("combobox")


def pick(page: Page, combobox: Locator, option: str) -> None:
    """Choose an option; a rerun that lands as the list opens closes it, so open it again."""
    for _ in range(3):
        combobox.click()
        try:
            page.get_by_role("option", name=option).click(timeout=15_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            wait_idle(page)
    raise AssertionError(f"the option {option!r} never showed")


def upload(page: Page, scope: Locator, path: Path, inputs: str, output: str) -> None:
    """Upload a file into the training-data form, check its mapping, add it as the set."""
    scope.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    wait_idle(page)
    # The upload's rerun may start after wait_idle saw the app idle: wait for its mapping.
    expect(scope.get_by_text(inputs, exact=True).first).to_be_visible(timeout=TIMEOUT)
    expect(chosen(scope, "Task (")).to_have_value("Information Retrieval")  # the scoped task
    expect(chosen(scope, "Output column")).to_have_value(output)
    scope.get_by_role("button", name="Add this training set").click()
    wait_idle(page)
    expect(chosen(scope, "Training data")).to_have_value(f"Uploaded: {path.name}", timeout=TIMEOUT)


def test_launch_a_tiny_job_and_watch_it_complete(
    ft_page: Page, ft_url: str, tiny_causal, tmp_path
) -> None:
    page, shots = ft_page, Steps(ft_page, 40, "finetune")
    page.goto(ft_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "3 Adapt: fine-tune", "3 · Adapt: fine-tune")
    wait_loaded(page, 300_000)  # the embedded model loads in the background for the report

    new = tab(page, "New run")
    # The user's own data: a CSV, then a JSONL, mapped and added without a traceback.
    new.get_by_text("Upload your own training data (CSV or JSONL)").click()
    (tmp_path / "qa.csv").write_text(CSV)
    (tmp_path / "chat.jsonl").write_text(JSONL)
    upload(page, new, tmp_path / "qa.csv", "question", "answer")
    shots.done("uploaded-csv", 300_000)
    upload(page, new, tmp_path / "chat.jsonl", "prompt", "completion")
    shots.done("uploaded-jsonl", 300_000)

    pick(page, chosen(new, "Base model"), "Another model (local folder or hub id)")
    wait_idle(page, 300_000)
    folder = new.get_by_label("Local folder or hub id")
    folder.fill(str(tiny_causal))
    folder.press("Enter")
    wait_idle(page, 300_000)
    # The tiny tokenizer spells prompts out in bytes: a long window, a short job.
    number(new, "Sequence length (tokens)", "2048")
    number(new, "Max steps (0 = epochs)", "6")
    number(new, "Evaluate and sample every (steps)", "3")
    number(new, "Batch size", "4")
    expect(new.get_by_text("Trainable parameters")).to_be_visible()
    expect(new.get_by_text("Train / validation")).to_be_visible()
    shots.done("report")

    # A 0 the browser used to keep red while the last valid value launched: now it is taken
    # as typed, and Launch is off with the reason.
    launch = new.get_by_role("button", name="Launch fine-tune")
    number(new, "Batch size", "0")
    expect(new.get_by_text("The batch size must be at least 1.").first).to_be_visible()
    expect(launch).to_be_disabled()
    shots.done("batch-zero")
    number(new, "Batch size", "4")
    expect(launch).to_be_enabled()

    launch.click()
    wait_idle(page)
    # The toast says "started" for a few seconds only: a loaded machine may draw it too late.
    expect(main(page).get_by_role("tab", name="Runs (1)")).to_be_visible()

    runs = tab(page, "Runs (1)")
    progress = runs.locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text(re.compile(r"step \d+/6"), timeout=JOB)
    chart = runs.locator('[data-testid="stPlotlyChart"]')
    expect(chart.first).to_be_visible(timeout=JOB)  # the curves appear while it trains
    shots.done("running")
    expect(runs.get_by_text("completed").first).to_be_visible(timeout=JOB)
    expect(progress).to_contain_text("step 6/6")
    expect(chart).to_have_count(2)  # the loss, and beside it the validation ROUGE-L
    expect(runs.get_by_text("chat.jsonl").first).to_be_visible()  # trained on the upload
    table = runs.locator('[data-testid="stDataFrame"]')
    expect(table.first).to_be_visible()
    shots.done("completed")

    tried = tab(page, "Try it and evaluate")
    expect(tried.get_by_role("button", name="Generate with both")).to_be_visible()
    shots.done("try-it")
