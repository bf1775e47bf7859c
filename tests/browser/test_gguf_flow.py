"""Issue 18's flow in a real browser: a completed LoRA run, one click on Deploy to its GGUF
variants (built in the background, progress in view), then Q4_K_M measured beside fp32."""

from __future__ import annotations

import re
from functools import partial

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve, with_model
from tests.browser.test_finetune import chosen, pick
from tests.browser.ui import Steps, browser_tab, go_to, main, tab, wait_idle, wait_loaded
from tests.tiny_models import save_lora

PROJECT = "GGUF demo"
SLOW = 900_000  # ms: merge, convert, quantize, then measure two variants on a busy 2-core CPU
pytestmark = pytest.mark.llama


@pytest.fixture(scope="module")
def gguf_url(tmp_path_factory, embedded_models, gguf_tiny, converter):
    """A project with one completed LoRA run of the tiny GGUF-ready model."""
    from lifecycle.store import Store
    from tests.pages.test_deploy_gguf import finished_run

    base = with_model(tmp_path_factory.mktemp("browser-gguf"), embedded_models, PROJECT)
    data = base / "lifecycle-home"
    store = Store(data / "lifecycle.sqlite")
    [project] = store.list_projects()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LIFECYCLE_HOME", str(data))  # the run folder goes where the server reads
        lora = partial(save_lora, gguf_tiny)
        run_id = finished_run(store, project.id, lora, base_ref=str(gguf_tiny), method="lora")
    with serve(base) as url:
        yield url, run_id


def test_one_click_to_gguf_then_measured_beside_fp32(browser, gguf_url) -> None:
    url, run_id = gguf_url
    with browser_tab(browser) as page:
        shots = Steps(page, 90, "gguf")
        page.goto(url)
        expect(main(page).get_by_text(f"Project: {PROJECT}")).to_be_visible(timeout=30_000)
        go_to(page, "6 Deploy", "6 · Deploy")
        wait_loaded(page, SLOW)
        pick(page, chosen(main(page), "Model to optimise"), f"Tuned run {run_id}")
        wait_idle(page)

        variants = tab(page, "Variants")
        build = variants.get_by_role("button", name="Build GGUF for llama.cpp (F16, Q8_0, Q4_K_M)")
        build.click()
        expect(
            main(page).get_by_text(re.compile(r"^Building the GGUF variants of "))
        ).to_be_visible(timeout=SLOW)
        shots.done("building", SLOW)
        done = main(page).get_by_text(re.compile(r"^GGUF for llama\.cpp: F16, Q8_0, Q4_K_M\."))
        expect(done).to_be_visible(timeout=SLOW)
        wait_idle(page)
        variants = tab(page, "Variants")  # the rerun that ends the build may reopen the first tab
        expect(build).to_have_count(0)  # built: no second build button
        chips = variants.locator('[data-testid="stMultiSelect"]').filter(
            has=page.get_by_text("Variants to build and measure", exact=True)
        )
        for name in ("fp32", "int8", "gguf-F16", "gguf-Q8_0", "gguf-Q4_K_M"):
            expect(chips).to_contain_text(name)
        shots.done("built")

        variants.get_by_role("button", name="Build and measure").click()
        table = variants.locator('[data-testid="stDataFrame"]').first
        expect(table).to_contain_text("GGUF Q4_K_M", timeout=SLOW)
        expect(table).to_contain_text("fp32 (as trained)")
        shots.done("measured", SLOW)
