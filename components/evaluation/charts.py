"""Plotly figures of the evaluation page."""

from __future__ import annotations

from lifecycle.evaluation.shots import ShotPoint
from lifecycle.evaluation.stats import Interval
from lifecycle.text import plot_text


def score_bars(rows: list[tuple[str, str, Interval]]):
    """Grouped bars: one group per metric, one bar per candidate, 95 % intervals as error bars."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for label in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == label]
        fig.add_bar(
            name=plot_text(label),
            x=[plot_text(r[1]) for r in mine],
            y=[r[2].mean for r in mine],
            error_y=dict(
                type="data",
                symmetric=False,
                array=[r[2].high - r[2].mean for r in mine],
                arrayminus=[r[2].mean - r[2].low for r in mine],
            ),
        )
    fig.update_layout(
        barmode="group",
        yaxis_title="score (0-1), 95 % CI",
        yaxis_range=[0, 1],
        height=380,
        margin=dict(t=20, b=10),
        legend_orientation="h",
    )
    return fig


def score_distribution(series: dict[str, list[float]], metric: str):
    """Per-example score distribution of each candidate (box with points)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for label, values in series.items():
        fig.add_box(y=values, name=plot_text(label), boxpoints="all", jitter=0.4, pointpos=0)
    fig.update_layout(
        yaxis_title=f"{plot_text(metric)} per example",
        height=360,
        showlegend=False,
        margin=dict(t=20, b=10),
    )
    return fig


def shots_curve_chart(points: list[ShotPoint], metric: str):
    """Score and share of the context window against the number of examples."""
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = [p.shots for p in points]
    fig.add_scatter(x=x, y=[p.score for p in points], name=metric, mode="lines+markers")
    fig.add_scatter(
        x=x,
        y=[p.window_share for p in points],
        name="context window used",
        mode="lines+markers",
        line_dash="dot",
        secondary_y=True,
    )
    fig.update_xaxes(title="examples in the prompt (shots)", tickvals=x)
    fig.update_yaxes(title=metric, secondary_y=False)
    fig.update_yaxes(title="share of the window", tickformat=".0%", secondary_y=True)
    fig.update_layout(height=360, margin=dict(t=20, b=10), legend_orientation="h")
    return fig
