"""The evaluate page in a real browser with the real embedded SmolLM2: two runs, compare, read."""

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
    wait_loaded,
)

PROJECT = "Evaluate demo"
SLICE = 3  # examples per run: 3 x up to 64 new tokens at ~15 tokens/s on 2 cores
LABEL = "Conversation Summarization prompt"
GENERATION = 900_000  # ms: model load plus one run of the slice, with room for a slow machine
# The paired-bootstrap sentence, significant or not.
VERDICT = re.compile(r" ROUGE-L .*\(.*95 % CI [-+]\d\.\d{3} to [-+]\d\.\d{3}, n=3\)\.$")


@pytest.fixture(scope="module")
def eval_url(tmp_path_factory, embedded_models):
    """A server whose data folder has the embedded model and a project."""
    base = tmp_path_factory.mktemp("browser-eval_url")
    with serve(with_model(base, embedded_models, PROJECT, "")) as url:
        yield url


@pytest.fixture(scope="module")
def eval_page(browser, eval_url):
    """One browser tab for the ordered steps below."""
    with browser_tab(browser) as page:
        yield page


def widget(scope: Locator, testid: str, label: str) -> Locator:
    """The one widget of a kind (stSelectbox, stSlider...) with this label inside `scope`."""
    found = scope.locator(f'[data-testid="{testid}"]').filter(
        has=scope.page.get_by_text(label, exact=True)
    )
    expect(found).to_have_count(1)
    return found


def set_slice(page: Page, n: int) -> None:
    """Move the slice slider to n with the keyboard (Home is its minimum, 1)."""
    slider = widget(main(page), "stSlider", "Examples to evaluate (a slice keeps CPU runs short)")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("Home")
    for _ in range(n - 1):
        thumb.press("ArrowRight")
    wait_idle(page)
    # A loaded machine may drop a press between reruns: step towards n until it is there.
    for _ in range(2 * n):
        now = int(thumb.input_value())
        if now == n:
            break
        thumb.press("ArrowRight" if now < n else "ArrowLeft")
        wait_idle(page)
    expect(thumb).to_have_value(str(n))
    expect(slider.locator('[data-testid="stSliderThumbValue"]')).to_have_text(str(n))


def pick_shots(run: Locator, shots: int) -> None:
    """Choose the number of shots of the candidate in the Run tab."""
    box = widget(run, "stSelectbox", "Shots")
    box.get_by_role("combobox").click()
    run.page.get_by_role("option", name=str(shots), exact=True).click()
    expect(box.get_by_role("combobox")).to_have_value(str(shots))
    wait_idle(run.page)


def evaluate(run: Locator, shots: int) -> Locator:
    """Press "Evaluate this candidate" and wait for its success message."""
    run.get_by_role("button", name="Evaluate this candidate").click()
    done = run.locator('[data-testid="stAlertContentSuccess"]').filter(
        has_text=f"{LABEL} · {shots}-shot: "
    )
    expect(done).to_be_visible(timeout=GENERATION)
    wait_idle(run.page, GENERATION)
    expect(done).to_have_text(re.compile(r"ROUGE-L \d\.\d{3}"))
    return done


def select_for_comparison(results: Locator, options: list[str]) -> None:
    """Make sure "Compare on this set" holds these runs, in this order (the first is A)."""
    box = widget(results, "stMultiSelect", "Compare on this set")
    tags = box.locator(".react-aria-ComboBox [data-tag]")  # a hidden <template> holds a copy
    if [t.strip() for t in tags.all_inner_texts()] == options:
        return
    clear = box.get_by_role("button", name="Clear all")
    if clear.count():
        clear.click()
        wait_idle(results.page)
    for option in options:
        box.get_by_role("combobox").click()
        results.page.get_by_role("option", name=option, exact=True).click()
        wait_idle(results.page)
    results.page.keyboard.press("Escape")
    expect(tags).to_have_text(options)
    wait_idle(results.page)


def test_evaluate_two_candidates_and_compare(eval_page: Page, eval_url: str) -> None:
    page, shots = eval_page, Steps(eval_page, 30, "evaluate")
    page.goto(eval_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "5 Evaluate", "5 · Evaluate")
    wait_loaded(page, GENERATION)  # the retrieval candidates' vector store opens in the background
    expect(main(page).get_by_text(re.compile(r"^60 examples · task summarization"))).to_be_visible()
    set_slice(page, SLICE)
    shots.done("slice")

    # Two runs of the embedded model on the slice: 0-shot, then 3-shot.
    run = tab(page, "Run")
    evaluate(run, 0)
    shots.done("zero-shot", GENERATION)
    pick_shots(run, 3)
    evaluate(run, 3)
    shots.done("three-shot", GENERATION)

    # Results: both runs listed, charts with intervals, the paired-bootstrap sentence.
    results = tab(page, "Results")
    table = results.locator('[data-testid="stDataFrame"]').first
    for shot in (0, 3):
        expect(table).to_contain_text(f"{LABEL} · {shot}-shot")
    # The page keeps its first selection when runs are added (a known bug, xfail in
    # tests/pages/test_evaluate.py): pick both runs as a user would.
    select_for_comparison(results, [f"{LABEL} · {shot}-shot [done]" for shot in (0, 3)])
    plots = results.locator('[data-testid="stPlotlyChart"]')
    expect(plots).to_have_count(2)
    expect(plots.first.locator(".main-svg").first).to_be_visible()
    verdict = results.locator('[data-testid="stAlert"]').filter(has_text="95 % CI")
    expect(verdict).to_have_count(1)
    expect(verdict).to_contain_text(VERDICT)
    plots.first.scroll_into_view_if_needed()
    shots.done("results")
    verdict.scroll_into_view_if_needed()
    shots.done("significance")

    # Examples: A and B side by side with their difference, then one example in detail.
    examples = tab(page, "Examples")
    grid = examples.locator('[data-testid="stDataFrame"]')
    expect(grid).to_have_count(1)
    expect(grid).to_contain_text("reference")
    grid.hover()
    page.mouse.wheel(4000, 0)  # the grid only renders the columns in view: scroll to the right
    for column in ("A ROUGE-L", "B ROUGE-L", "B - A"):
        expect(grid).to_contain_text(column)
    shots.done("examples")
    expect(examples.get_by_text("Reference", exact=True)).to_be_visible()
    for side, shot in (("A", 0), ("B", 3)):
        detail = examples.get_by_text(f"{side}: {LABEL} · {shot}-shot", exact=True)
        expect(detail).to_be_visible()
    detail.scroll_into_view_if_needed()  # B's output, its rating stars and its caption
    shots.done("example-detail")
