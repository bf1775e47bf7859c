"""The HTML report: one offline file, every chart inside, record text escaped, honest blanks."""

from __future__ import annotations

import json
import re

from components.report.html import html_report
from lifecycle.overview import overview
from lifecycle.report import markdown_report
from lifecycle.report_summary import summary
from lifecycle.scope import Scope
from lifecycle.store import Store

MODEL = {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "advisor": {"budget_usd": 5000.0}}
HOSTILE = '<img src="http://evil.example/x.png"><script>alert(1)</script>'


def _project(tmp_path, name="Report", scoped=True):
    store = Store(tmp_path / "db.sqlite")
    p = store.create_project(name)
    if scoped:
        store.put_record(p.id, "scope", Scope("summarization").to_dict())
        store.put_record(p.id, "model", {**MODEL, "workload": {"context": 100_000}})
    return store, p


def charts(html: str) -> int:
    return len(re.findall(r'class="plotly-graph-div"', html))


def test_an_empty_project_says_not_started_and_invents_nothing(tmp_path):
    store, p = _project(tmp_path, scoped=False)
    html = html_report(overview(store, p.id), [], {})
    assert "not chosen yet" in html and "not estimated" in html and "no evaluation yet" in html
    assert "No evaluation run yet." in html and "No deployment variant measured yet." in html
    assert charts(html) == 1  # the Gantt only
    assert html.count("<td>not started</td>") == 14  # state and progress of all seven


def test_the_report_is_self_contained(tmp_path):
    store, p = _project(tmp_path)
    html = html_report(overview(store, p.id), [], {})
    assert charts(html) == 4  # Gantt, memory, build-or-reuse cost, lineage
    assert html.count("<script") >= 3 and "plotly.js" in html.lower()
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?https?:""", html)
    assert "cdn.plot.ly/plotly" not in html


def test_warnings_and_the_summary(tmp_path):
    store, p = _project(tmp_path)
    ov = overview(store, p.id)
    s = summary(ov)
    assert s["task"] == "Conversation Summarization"
    assert s["model"]["name"] == "SmolLM2 135M Instruct"
    assert s["stages"]["scope"]["state"] == "decided"
    assert s["stages"]["evaluate"]["state"] == "not started"
    assert any("longer than the model's window" in w for w in s["warnings"])
    json.dumps(s)  # the JSON export carries it as is
    assert "longer than the model&#x27;s window" in html_report(ov, [], {})


def test_record_text_is_escaped(tmp_path):
    store, p = _project(tmp_path, name=HOSTILE)
    html = html_report(overview(store, p.id), [], {})
    assert HOSTILE not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_kind_of_evidence_gets_its_chart_and_lineage(tmp_path):
    from types import SimpleNamespace

    from lifecycle.deploy.measure import VariantReport
    from lifecycle.evaluation.datasets import EvalSet, Example
    from lifecycle.evaluation.runs import Candidate, continue_run, start_run
    from lifecycle.models import GenerationResult, GenParams
    from lifecycle.prompting import PromptSpec
    from lifecycle.tasks import load_tasks

    store, p = _project(tmp_path)
    spec = PromptSpec.for_task(load_tasks()["summarization"], 3)
    evalset = EvalSet("tiny set", "summarization", ("rouge",), (Example("a", "hi", "hello"),))
    run = start_run(store, p.id, Candidate("<b>v1</b>", "embedded:x", spec, GenParams()), evalset)
    continue_run(
        store, p.id, run, evalset, lambda _: GenerationResult("hello", 1, 1, 0.1, 0.05, "eos")
    )
    tuned = SimpleNamespace(
        id="run-1",
        metrics=[{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}],
        config=SimpleNamespace(base_ref="embedded:x"),
        dataset={"name": "dialogues", "hash": "abc"},
    )
    store.put_record(
        p.id,
        "finetune_run",
        {"id": "run-1", "base_ref": "embedded:x", "method": "lora", "dataset": tuned.dataset},
        "run-1",
    )
    measured = {
        "embedded:x": [
            VariantReport("fp32", tokens_per_s=10, quality={"rougeL": 0.3}, quality_key="rougeL"),
            VariantReport("int8", tokens_per_s=20, quality={"rougeL": 0.28}, quality_key="rougeL"),
        ]
    }
    html = html_report(overview(store, p.id), [tuned], measured)
    assert charts(html) == 7  # Gantt, memory, cost, evaluation, loss, deploy trade-off, lineage
    assert "ROUGE-L" in html and "&lt;b&gt;v1&lt;/b&gt;" in html and "<b>v1</b>" not in html
    for link in ("fine-tune run: run-1 (LoRA", "evaluation: &lt;b&gt;v1", "deploy variant: int8"):
        assert link in html, link


def test_retrieval_quality_reaches_every_export(tmp_path):
    """A measured collection shows in the HTML and Markdown reports and the JSON summary."""
    from lifecycle.decision_records import save_rag_quality

    store, p = _project(tmp_path)
    chunks = {"unit": "tokens", "size": 200, "overlap": 20}
    ranks = [1, 2, 0, 1, 3, 1, 0, 2, 1, 1]  # 0: the answering chunk was not in the top 3
    save_rag_quality(store, p.id, "c1", HOSTILE, 3, ranks, chunks)
    ov = overview(store, p.id)
    [row] = summary(ov)["retrieval"]
    assert row["questions"] == 10 and row["hit_rate"] == 0.8 and row["k"] == 3
    low, high = row["hit_rate_interval"]
    assert low <= 0.8 <= high
    assert row["mrr"] == round((5 * 1 + 2 * 0.5 + 1 / 3) / 10, 4)
    html = html_report(ov, [], {})
    assert "hit@3 0.80" in html and "200 tokens, overlap 20" in html
    assert "No retrieval evaluation stored." not in html and "<script>alert" not in html
    md = markdown_report(ov)
    assert "retrieval (RAG) quality" in md and "hit@3 0.80" in md
    assert "\\<img" in md  # the label escaped: no live image in a Markdown viewer


def test_no_retrieval_measured_says_so(tmp_path):
    store, p = _project(tmp_path)
    ov = overview(store, p.id)
    assert summary(ov)["retrieval"] == []
    assert "No retrieval evaluation stored." in html_report(ov, [], {})
    assert "retrieval (RAG) quality" not in markdown_report(ov)
