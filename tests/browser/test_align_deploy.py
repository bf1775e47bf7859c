"""Align and Deploy in a real browser with the embedded model: two preferences, then int8."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import serve, with_model
from tests.browser.ui import Steps, browser_tab, go_to, main, tab, wait_idle

PROJECT = "Align and deploy demo"
SLOW = 900_000  # ms: two completions, or building and measuring three variants, on 2 cores


@pytest.fixture(scope="module")
def ad_url(tmp_path_factory, embedded_models):
    base = tmp_path_factory.mktemp("browser-align-deploy")
    with serve(with_model(base, embedded_models, PROJECT, "summarization")) as url:
        yield url


@pytest.fixture(scope="module")
def ad_page(browser, ad_url):
    with browser_tab(browser) as page:
        yield page


def judge(page: Page, verdict: str, count: int) -> None:
    """Generate a blind pair, give the verdict, see the preference counted."""
    collect = tab(page, "Collect preferences")
    collect.get_by_role("button", name="Generate a blind pair").click()
    expect(collect.get_by_text("Completion 2", exact=True)).to_be_visible(timeout=SLOW)
    wait_idle(page, SLOW)
    collect.get_by_role("button", name=verdict, exact=True).click()
    wait_idle(page)
    expect(collect.get_by_role("heading", name=f"Collected preferences ({count})")).to_be_visible()


def test_record_two_preferences_then_quantize(ad_page: Page, ad_url: str) -> None:
    page, shots = ad_page, Steps(ad_page, 60, "align-deploy")
    page.goto(ad_url)
    expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
    go_to(page, "4 Align", "4 · Align")
    judge(page, "1 is better", 1)
    shots.done("first-preference")
    judge(page, "2 is better", 2)
    expect(page.get_by_text(re.compile(r"^Saved \(. better\)\. A was "))).to_be_visible()
    shots.done("second-preference")

    go_to(page, "6 Deploy", "6 · Deploy")
    variants = tab(page, "Variants")
    thumb = (
        variants.locator('[data-testid="stSlider"]')
        .filter(has=page.get_by_text("Examples for speed and quality", exact=True))
        .get_by_role("slider")
    )
    thumb.focus()
    thumb.press("Home")
    wait_idle(page)
    expect(thumb).to_have_value("1")
    variants.get_by_role("button", name="Build and measure").click()
    table = variants.locator('[data-testid="stDataFrame"]')
    expect(table).to_have_count(1, timeout=SLOW)
    wait_idle(page, SLOW)
    expect(table).to_contain_text("int8")
    expect(variants.locator('[data-testid="stPlotlyChart"]')).to_have_count(2)
    shots.done("measured")
