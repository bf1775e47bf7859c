"""Plotly figures of retrieval quality: hit@k per collection with its 95 % interval."""

from __future__ import annotations

from components.evaluation.charts import score_bars
from lifecycle.evaluation.stats import Interval


def retrieval_chart(rows: list[dict]):
    """One bar per measured collection (rows from `report_summary.retrieval_rows`)."""
    return score_bars(
        [
            (r["collection"], f"hit@{r['k']}", Interval(r["hit_rate"], *r["hit_rate_interval"]))
            for r in rows
        ]
    )
