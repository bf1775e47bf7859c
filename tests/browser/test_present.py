"""Present mode in a real browser: the arrow keys turn the screens, each stage in large type with
one chart; then the HTML report (with the lineage graph) read with the network blocked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lifecycle.deploy.measure import VariantReport
from lifecycle.scope import Scope
from lifecycle.stages import STAGES
from lifecycle.store import Store
from tests.browser.conftest import serve
from tests.browser.test_guided import read_offline
from tests.browser.test_offline import refuse_off_machine
from tests.browser.ui import TIMEOUT, Steps, browser_tab, go_to, main, wait_idle

MODEL = {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "advisor": {"budget_usd": 5000.0}}


def _eval_run(run_id: str, label: str, scores: list[float]) -> dict:
    per = {f"ex{i}": s for i, s in enumerate(scores)}
    return {
        "id": run_id,
        "candidate": {"label": label, "model_ref": "embedded:smollm2"},
        "set_name": "dialogues test",
        "set_hash": "h1",
        "task_id": "summarization",
        "total": len(scores),
        "metrics": ["rouge"],
        "status": "done",
        "scores": {"rougeL": sum(scores) / len(scores)},
        "per_example": {"rougeL": per},
        "updated_at": run_id,
    }


@pytest.fixture(scope="module")
def present_url(tmp_path_factory):
    """A project with a scope, a model, two evaluated prompts and two measured variants."""
    base = tmp_path_factory.mktemp("present")
    store = Store(base / "lifecycle-home" / "lifecycle.sqlite")
    p = store.create_project("Support summaries")
    store.put_record(p.id, "scope", Scope("summarization").to_dict())
    store.put_record(p.id, "model", MODEL)
    for run in (
        _eval_run("e1", "zero-shot", [0.2, 0.3, 0.25, 0.35]),
        _eval_run("e2", "three-shot", [0.45, 0.5, 0.4, 0.55]),
    ):
        store.put_record(p.id, "eval_run", run, run["id"])
    reports = [
        VariantReport("fp32", tokens_per_s=15, memory_bytes=500, quality={"rougeL": 0.47}),
        VariantReport("int8", tokens_per_s=31, memory_bytes=200, quality={"rougeL": 0.46}),
    ]
    data = {
        "ref": "embedded:smollm2",
        "set_name": "dialogues test",
        "reports": [{**r.to_dict(), "quality_key": "rougeL"} for r in reports],
    }
    store.put_record(p.id, "deploy_measurement", data, "embedded:smollm2")
    with serve(base) as url:
        yield url


def test_present_mode_turns_with_the_arrow_keys_then_the_report_reads_offline(browser, present_url):
    with browser_tab(browser) as page:
        leaks = refuse_off_machine(page)
        steps = Steps(page, 1, "present")
        page.goto(f"{present_url}/present")
        for i, stage in enumerate(STAGES):
            if i:
                page.keyboard.press("ArrowRight")
            title = f"{stage.number} · {stage.title}"
            heading = main(page).get_by_role("heading", name=title, exact=True)
            expect(heading).to_be_visible(timeout=TIMEOUT)
            wait_idle(page)
            expect(main(page).get_by_text(re.compile(r"^(Next: |To start, open )"))).to_be_visible()
            steps.done(stage.id)
        charts = main(page).locator(".js-plotly-plot")
        expect(charts).to_have_count(0)  # infrastructure: not started, no figure
        page.keyboard.press("ArrowLeft")
        expect(main(page).get_by_role("heading", name="6 · Deploy", exact=True)).to_be_visible()
        expect(charts).to_have_count(1)  # the measured speed against quality
        main(page).get_by_role("button", name=re.compile("Previous")).click()
        expect(main(page).get_by_role("heading", name="5 · Evaluate", exact=True)).to_be_visible()
        expect(
            main(page).get_by_text(re.compile("three-shot leads on dialogues test"))
        ).to_be_visible()

        go_to(page, "Plan and report", "Plan and report")
        button = main(page).get_by_role("button", name=re.compile("Download report \\(HTML"))
        with page.expect_download(timeout=180_000) as download:
            button.click()
        html = Path(download.value.path()).read_text(encoding="utf-8")
    assert leaks == [], leaks
    # Gantt, memory, cost, evaluation, deploy trade-off and the lineage graph.
    assert html.count('class="plotly-graph-div"') == 6 and "<h2>Lineage</h2>" in html
    read_offline(browser, html, steps)
