"""Plotly figures of the deploy page: speed against quality, and size per variant."""

from __future__ import annotations

from lifecycle.deploy.measure import VariantReport
from lifecycle.deploy.whatif import WhatIf
from lifecycle.text import plot_text

MIB = 2**20


def speed_quality_chart(reports: list[VariantReport]):
    """Decode tokens/s against quality; the marker area follows the memory in use."""
    import plotly.graph_objects as go

    good = [r for r in reports if not r.error]
    biggest = max((r.memory_bytes for r in good), default=1) or 1
    fig = go.Figure()
    for r in good:
        fig.add_scatter(
            x=[r.tokens_per_s],
            y=[r.primary],
            mode="markers+text",
            text=[plot_text(r.name)],
            textposition="top center",
            marker=dict(size=14 + 36 * (r.memory_bytes / biggest) ** 0.5),
            name=plot_text(r.label or r.name),
            showlegend=False,  # each marker carries its variant's name
        )
    key = next((r.quality_key for r in good if r.quality_key), "quality")
    fig.update_layout(
        xaxis_title="decode speed (tokens/s, higher is better)",
        yaxis_title=f"{plot_text(key)} (higher is better)",
        height=360,
        margin=dict(t=20, b=10),
    )
    return fig


def size_chart(reports: list[VariantReport]):
    """Size on disk and in memory per variant, in MiB."""
    import plotly.graph_objects as go

    good = [r for r in reports if not r.error]
    fig = go.Figure()
    names = [plot_text(r.name) for r in good]
    fig.add_bar(name="on disk", x=names, y=[r.disk_bytes / MIB for r in good])
    fig.add_bar(name="in memory", x=names, y=[r.memory_bytes / MIB for r in good])
    fig.update_layout(
        barmode="group",
        yaxis_title="MiB",
        height=320,
        margin=dict(t=20, b=10),
        legend_orientation="h",
    )
    return fig


def serving_cost_chart(results: dict[str, WhatIf]):
    """Cost per 1,000 requests per throughput source."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(x=[plot_text(n) for n in results], y=[w.cost_per_1000 for w in results.values()])
    fig.update_layout(yaxis_title="cost per 1,000 requests", height=300, margin=dict(t=20, b=10))
    return fig
