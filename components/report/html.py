"""The report as one self-contained HTML file: summary, charts with their JavaScript, lineage."""

from __future__ import annotations

from html import escape

from components.charts import build_vs_reuse_chart, gantt_chart, memory_chart
from components.deploy.charts import speed_quality_chart
from components.evaluation.charts import score_bars
from components.rag.charts import retrieval_chart
from components.report.lineage import lineage_chart
from lifecycle.deploy.measure import VariantReport
from lifecycle.evaluation.runs import primary_key
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.finetune.runs import Run
from lifecycle.glossary import display_name
from lifecycle.lineage import FLOW, Lineage, lineage, nested
from lifecycle.overview import Overview
from lifecycle.report_summary import executive_rows, retrieval_table, summary
from lifecycle.selection.memory import EstimateError, devices, estimate
from lifecycle.store import now
from lifecycle.text import plot_text

# Every value from a record (names, labels, ids, model output) goes through `escape`: the file is
# mailed and opened in a browser, where markup in a project name must stay text.
STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.8em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.3em .6em}
th{background:#f4f4f4;text-align:left}.warn{background:#fff4e0;padding:.6em 1em}
.none{color:#777;font-style:italic}ul.lineage{font-family:monospace}
tr.overridden td{background:#fff4e0}
"""


class Charts:
    """Figures as HTML: the first carries plotly's JavaScript inline, the others reuse it."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig) -> str:
        import plotly.io as pio

        self.count += 1
        # Streamlit themes its charts; a file on its own needs a template for its colours.
        fig.update_layout(template="plotly_white")
        return pio.to_html(fig, include_plotlyjs=self.count == 1, full_html=False)


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header) if any(header) else ""
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def _none(text: str) -> str:
    return f'<p class="none">{escape(text)}</p>'


def _executive(s: dict) -> str:
    return "<h2>Executive summary</h2>" + _table(["", ""], [list(r) for r in executive_rows(s)])


def _stages(s: dict) -> str:
    rows = [
        [v["title"], v["state"], v["need"], v["progress"], v["days"]] for v in s["stages"].values()
    ]
    return "<h2>Stages</h2>" + _table(["Stage", "State", "Need", "Progress", "Days"], rows)


def _decisions(s: dict) -> str:
    out = "<h2>Decisions from evidence</h2>"
    if not s["decisions"]:
        return out + _none("No decision recorded yet: each stage page proposes one from its runs.")
    head = ["Decided", "Gate", "Decision", "Proposed", "", "Reason", "Evidence", "Rule", "Runs"]
    rows = "".join(
        f'<tr class="{"overridden" if d["overridden"] else ""}">'
        + "".join(
            f"<td>{escape(str(c))}</td>"
            for c in (
                d["decided_at"][:16],
                d["question"],
                d["decision"],
                d["proposed"],
                "overridden" if d["overridden"] else "accepted",
                d["reason"],
                d["why"],
                d["rule"],
                ", ".join(d["evidence"]),
            )
        )
        + "</tr>"
        for d in s["decisions"]
    )
    return out + f"<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{rows}</table>"


def _memory(ov: Overview, chart: Charts) -> str:
    out = "<h2>Memory and compute</h2>"
    if not ov.model:
        return out + _none("No model chosen yet: no memory estimate.")
    try:
        rows = estimate(ov.model, ov.workload)
    except EstimateError as err:
        return out + _none(f"Memory not estimated: {err}")
    out += chart(memory_chart(rows, devices()[:-1]))
    if ov.advice:
        out += chart(build_vs_reuse_chart(ov.advice.pretrain_all_in_usd, ov.advice.reuse.cost_usd))
    return out


def _evaluation(ov: Overview, chart: Charts) -> str:
    runs = [r for r in ov.eval_runs if r.per_example]
    out = "<h2>Evaluation (95 % intervals)</h2>"
    if not runs:
        return out + _none("No evaluation run yet.")
    rows = [
        (r.candidate.label, display_name(k), bootstrap_interval(list(v.values())))
        for r in runs
        for k, v in r.per_example.items()
        if k == primary_key(r.metrics) and v
    ]
    return out + chart(score_bars(rows))


def _loss(runs: list[Run], chart: Charts) -> str:
    import plotly.graph_objects as go

    out = "<h2>Fine-tuning loss</h2>"
    curves = [(r, [m for m in r.metrics if "loss" in m and "step" in m]) for r in runs]
    curves = [(r, rows) for r, rows in curves if rows]
    if not curves:
        return out + _none("No fine-tune run has logged a loss yet.")
    fig = go.Figure()
    for run, rows in curves:
        fig.add_scatter(
            x=[m["step"] for m in rows], y=[m["loss"] for m in rows], name=plot_text(run.id)
        )
    fig.update_layout(xaxis_title="step", yaxis_title="training loss", height=320)
    return out + chart(fig)


def _deploy(measured: dict[str, list[VariantReport]], chart: Charts) -> str:
    out = "<h2>Deployment trade-off</h2>"
    reports = [r for rs in measured.values() for r in rs if not r.error]
    if not reports:
        return out + _none("No deployment variant measured yet.")
    return out + chart(speed_quality_chart(reports))


def _lineage(graph: Lineage, chart: Charts) -> str:
    out = f"<h2>Lineage</h2><p>{FLOW}</p>"
    if not graph.nodes:
        return out + _none("Nothing recorded yet: no task, model or run.")
    items = "".join(
        f'<li style="margin-left:{2 * depth}em">{escape(node.kind)}: {escape(node.label)}'
        + (f" (also from {escape(', '.join(o.label for o in others))})" if others else "")
        + "</li>"
        for depth, node, others in nested(graph)
    )
    return out + chart(lineage_chart(graph)) + f'<ul class="lineage">{items}</ul>'


def _retrieval(s: dict, chart: Charts) -> str:
    out = "<h2>Retrieval (RAG) quality</h2>"
    if not s["retrieval"]:
        return out + _none("No retrieval evaluation stored.")
    header, rows = retrieval_table(s["retrieval"])
    return out + chart(retrieval_chart(s["retrieval"])) + _table(header, [list(r) for r in rows])


def html_report(ov: Overview, runs: list[Run], measured: dict[str, list[VariantReport]]) -> str:
    """The whole report as one HTML file that needs no network (plotly.js is inside)."""
    s = summary(ov)
    chart = Charts()
    warns = "".join(f"<li>{escape(w)}</li>" for w in s["warnings"])
    parts = [
        f"<h1>{escape(ov.project.name)}: generative-AI project report</h1>",
        f"<p>Generated by Lifecycle on {escape(now())}.</p>",
        _executive(s),
        f'<div class="warn"><b>Warnings</b><ul>{warns}</ul></div>' if warns else "",
        _stages(s),
        _decisions(s),
        "<h2>Plan</h2>" + chart(gantt_chart(list(ov.plan))),
        _memory(ov, chart),
        _evaluation(ov, chart),
        _loss(runs, chart),
        _deploy(measured, chart),
        _retrieval(s, chart),
        _lineage(lineage(ov, measured), chart),
    ]
    body = "\n".join(p for p in parts if p)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(ov.project.name)}: report</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
