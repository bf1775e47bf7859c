"""The lineage graph from records, and the Markdown report carrying what the HTML report says."""

from __future__ import annotations

import json
import re

from components.report.html import html_report
from lifecycle.deploy.measure import VariantReport
from lifecycle.lineage import lineage, nested
from lifecycle.overview import overview
from lifecycle.report import markdown_report
from lifecycle.report_summary import executive_rows, summary, warnings
from lifecycle.scope import Scope
from lifecycle.store import Store

MODEL = {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "advisor": {"budget_usd": 5000.0}}
HOSTILE = "![x](https://evil.example/?q=1) <b>bold</b>"


def _project(tmp_path, label="v1 three-shot"):
    """Scope, model, a prompt version, a fine-tune run, an evaluation of each, a measurement."""
    store = Store(tmp_path / "db.sqlite")
    p = store.create_project("Lineage")
    store.put_record(p.id, "scope", Scope("summarization").to_dict())
    store.put_record(p.id, "model", {**MODEL, "workload": {"context": 100_000}})
    version = {"id": "ver1", "name": label, "model_ref": "embedded:smollm2", "created_at": "1"}
    store.put_record(p.id, "prompt_version", version, "ver1")
    data = {"name": "dialogues", "hash": "abc"}
    tuned = {"id": "ft-1", "base_ref": "embedded:smollm2", "method": "lora", "dataset": data}
    store.put_record(p.id, "finetune_run", tuned, "ft-1")
    for run_id, source, ref in (
        ("e1", "version:ver1", "embedded:smollm2"),
        ("e2", "", "run:ft-1"),
        ("e3", "", "llamacpp:run:ft-1/Q4_K_M"),  # the run's GGUF on llama.cpp
    ):
        candidate = {"label": f"{label} {run_id}", "model_ref": ref, "source": source}
        run = {
            "id": run_id,
            "candidate": candidate,
            "set_name": "test set",
            "set_hash": "h1",
            "task_id": "summarization",
            "total": 2,
            "metrics": ["rouge"],
            "scores": {"rougeL": 0.5},
        }
        store.put_record(p.id, "eval_run", run, run_id)
    measured = {"run:ft-1": [VariantReport("int8", tokens_per_s=20, quality={"rougeL": 0.4})]}
    return store, p, measured


def test_the_graph_follows_each_artefact_to_its_source(tmp_path):
    store, p, measured = _project(tmp_path)
    graph = lineage(overview(store, p.id), measured)
    kinds = {n.id: n.kind for n in graph.nodes.values()}
    assert kinds["scope"] == "scope" and kinds["run:ft-1"] == "fine-tune run"
    edges = set(graph.edges)
    for edge in [
        ("scope", "model:HuggingFaceTB/SmolLM2-135M-Instruct"),
        ("scope", "model:embedded:smollm2"),  # the model the versions and runs really used
        ("model:embedded:smollm2", "version:ver1"),
        ("model:embedded:smollm2", "run:ft-1"),
        ("data:abc", "run:ft-1"),
        ("version:ver1", "eval:e1"),  # the evaluated prompt version
        ("run:ft-1", "eval:e2"),  # the evaluated fine-tune
        ("data:h1", "eval:e2"),  # and the set it was scored on
        ("run:ft-1", "eval:e3"),  # its GGUF is that run, quantized: no stray model node
        ("run:ft-1", "deploy:run:ft-1:int8"),
    ]:
        assert edge in edges, edge
    rows = nested(graph)
    assert sorted(n.id for _, n, _ in rows) == sorted(graph.nodes)  # each node once
    depth = {n.id: d for d, n, _ in rows}
    assert depth["scope"] == 0 and depth["deploy:run:ft-1:int8"] == depth["run:ft-1"] + 1
    json.dumps(graph.to_dict())


def test_an_empty_project_has_no_lineage(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    p = store.create_project("Empty")
    assert not lineage(overview(store, p.id)).nodes
    assert "Nothing recorded yet" in markdown_report(overview(store, p.id))


def test_records_that_name_each_other_in_a_loop_end(tmp_path):
    store, p, _ = _project(tmp_path)
    store.put_record(
        p.id, "prompt_version", {"id": "x", "name": "x", "model_ref": "version:x"}, "x"
    )
    rows = nested(lineage(overview(store, p.id)))
    assert len({n.id for _, n, _ in rows}) == len(rows)


def test_markdown_carries_what_the_html_says(tmp_path):
    store, p, measured = _project(tmp_path, label=HOSTILE)
    ov = overview(store, p.id)
    md = markdown_report(ov, measured)
    html = html_report(ov, [], measured)
    for heading in ("Executive summary", "Lineage"):
        assert f"## {heading}" in md and f"<h2>{heading}</h2>" in html
    for label, _ in executive_rows(summary(ov)):
        assert f"| {label} |" in md and f"<td>{label}</td>" in html
    assert warnings(ov) and "## Warnings" in md  # the context is longer than the model's window
    assert "Decode tokens/s" in md  # the deploy measurement
    lines = md.split("## Lineage")[1].splitlines()
    assert any(re.match(r"\s{2,}- fine-tune run: ft\\-1", line) for line in lines)  # nested
    graph = lineage(ov, measured)
    items = [line for line in lines if line.lstrip().startswith("- ")]
    assert len(items) == len(graph.nodes)
    # Record text stays inert in both: no live image, link or tag.
    assert "![x](https" not in md and "<b>bold</b>" not in md and "<b>bold</b>" not in html
