"""A walk through the real app in a real browser: project, scope, model, plan, report, home."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.ui import (
    REPO,
    TIMEOUT,
    Steps,
    browser_tab,
    go_to,
    main,
    tab,
    wait_idle,
)

DOCS_SHOT = REPO / "docs" / "home.png"
PROJECT = "Browser demo"
TASK = "Conversation Summarization"
MODEL_NAME = "SmolLM2 135M Instruct"
MODEL = f"{MODEL_NAME} (HuggingFaceTB/SmolLM2-135M-Instruct)"


def card(page: Page, title: Locator) -> Locator:
    """The innermost block of the main area that holds `title` (a bordered card)."""
    return main(page).locator('[data-testid="stVerticalBlock"]').filter(has=title).last


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (typing filters the list first)."""
    box = (
        main(page)
        .locator('[data-testid="stSelectbox"]')
        .filter(has=page.get_by_text(label, exact=True))
    )
    expect(box).to_have_count(1, timeout=TIMEOUT)
    # Long lists render as a virtual dropdown, short ones as a plain listbox.
    dropdown = page.get_by_role("listbox")
    # Right after a pick in another selectbox, Streamlit's frontend sometimes opens the list and
    # closes it again within ~30 ms (no rerun involved): click again when that happens.
    for attempt in range(3):
        box.get_by_role("combobox").click()
        try:
            expect(dropdown).to_be_visible(timeout=2_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            wait_idle(page)
    page.keyboard.type(option[:20])
    dropdown.get_by_role("option", name=option, exact=True).click()
    expect(dropdown).to_have_count(0, timeout=TIMEOUT)
    expect(box.get_by_role("combobox")).to_have_value(option, timeout=TIMEOUT)
    wait_idle(page)


def test_walk_through_the_lifecycle(page: Page, app_url: str) -> None:
    steps = Steps(page, 1, "walk")

    # Home, empty: the app renders after the websocket connects.
    page.goto(app_url)
    expect(main(page).get_by_role("heading", name="Lifecycle")).to_be_visible(timeout=30_000)
    expect(main(page).get_by_text("Start a project")).to_be_visible(timeout=TIMEOUT)
    steps.done("home-empty")

    # Create a project.
    main(page).get_by_label("New project name").fill(PROJECT)
    main(page).get_by_role("button", name="Create project").click()
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=TIMEOUT)
    steps.done("project-created")

    # Stage 1: primary task and one scope question.
    go_to(page, "1 Scope", "1 · Define the scope")
    choose(page, "Primary task", TASK)
    heading = page.get_by_role("heading", name=f"Primary: {TASK}")
    expect(main(page).locator(heading)).to_be_visible(timeout=TIMEOUT)
    choose(page, "Latency need", "interactive (< 1 s)")
    result = card(page, heading)
    expect(result).to_contain_text("Architecture", timeout=TIMEOUT)
    expect(result).to_contain_text("encoder-decoder", timeout=TIMEOUT)
    result.scroll_into_view_if_needed()
    steps.done("scope")

    # Stage 2: the chosen model above four tabs (Catalogue, Build or reuse, Memory, Compute).
    go_to(page, "2 Model selection", "2 · Select a model")
    choose(page, "Chosen model", MODEL)
    catalogue = tab(page, "Catalogue")
    expect(catalogue.locator('[data-testid="stDataFrame"]')).to_have_count(1, timeout=TIMEOUT)
    expect(catalogue).to_contain_text("Sizes inside your scoped bands", timeout=TIMEOUT)
    build = tab(page, "Build or reuse")
    expect(build.get_by_text("Recommendation:")).to_be_visible(timeout=TIMEOUT)
    expect(build).to_contain_text("come from your scope", timeout=TIMEOUT)
    # Memory: two tables (per precision, fit on each device) and the log-scale chart.
    memory = tab(page, "Memory")
    tables = memory.locator('[data-testid="stDataFrame"]')
    expect(tables).to_have_count(2, timeout=TIMEOUT)
    for column in ("Precision", "Weights", "KV cache", "Inference", "LoRA (QLoRA at int4)"):
        expect(tables.first).to_contain_text(column, timeout=TIMEOUT)
    expect(memory.get_by_text(re.compile(r"LoRA trains [\d,]+ parameters"))).to_be_visible()
    expect(memory.get_by_text(re.compile(r"Exact:"))).to_be_visible()
    chart = memory.locator(".js-plotly-plot")
    expect(chart).to_have_count(1, timeout=TIMEOUT)
    expect(chart).to_contain_text("T4 (15 GiB)", timeout=TIMEOUT)  # a GPU line's label, drawn
    chart.scroll_into_view_if_needed()
    steps.done("model")
    compute = tab(page, "Compute")
    expect(compute.locator('[data-testid="stDataFrame"]')).to_contain_text("Route")
    expect(compute.get_by_text(re.compile(r"2-15T tokens"))).to_be_visible(timeout=TIMEOUT)
    steps.done("model-compute")

    # Plan: Gantt chart, critical path, the Markdown report.
    go_to(page, "Plan and report", "Plan and report")
    critical = main(page).locator("p").filter(has=page.get_by_text("Critical path:", exact=True))
    expect(critical.first).to_be_visible(timeout=TIMEOUT)
    expect(critical.first).to_contain_text("Define scope → Select a model")
    expect(main(page).get_by_text("The plan fits your scope", exact=False)).to_be_visible(
        timeout=TIMEOUT
    )
    gantt = main(page).locator(".js-plotly-plot")
    expect(gantt).to_have_count(1, timeout=TIMEOUT)
    expect(gantt).to_contain_text("Define scope", timeout=TIMEOUT)
    gantt.scroll_into_view_if_needed()
    steps.done("plan")
    with page.expect_download(timeout=TIMEOUT) as info:
        main(page).get_by_role("button", name="Download report (Markdown)").click()
    download = info.value
    report = Path(download.path()).read_text(encoding="utf-8")
    assert download.suggested_filename.endswith("-report.md")
    for needle in (PROJECT, TASK, "## Plan"):
        assert needle in report, f"{needle!r} missing from the downloaded report"
    steps.done("report-downloaded")

    # Home again: the stage map shows the decisions.
    go_to(page, "Home", "Lifecycle")
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=TIMEOUT)
    scope_card = card(page, page.get_by_text("1. Define scope", exact=True))
    model_card = card(page, page.get_by_text("2. Select a model", exact=True))
    expect(scope_card).to_contain_text(TASK, timeout=TIMEOUT)
    expect(model_card).to_contain_text(MODEL_NAME, timeout=TIMEOUT)
    expect(main(page).get_by_text(TASK, exact=True)).to_be_visible()
    expect(main(page).get_by_text(MODEL_NAME, exact=True)).to_be_visible()
    steps.done("home-populated")
    if os.environ.get("LIFECYCLE_UPDATE_DOCS") == "1":
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SHOT), full_page=True)


@pytest.mark.parametrize("path", ["scope", "model_selection", "playground", "evaluate", "plan"])
def test_a_refresh_or_bookmark_opens_the_page_inside_the_app(browser, app_url, path):
    """A deep link starts a new session on that page: same navigation, sidebar and project."""
    with browser_tab(browser) as page:
        page.goto(f"{app_url}/{path}")
        wait_idle(page)
        nav = page.locator('[data-testid="stSidebarNav"]')
        expect(nav.get_by_role("link", name="1 Scope", exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="Plan and report", exact=True)).to_be_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
