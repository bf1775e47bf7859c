"""Plotly figures of fine-tune runs: losses and the validation metric, one run or several."""

from __future__ import annotations

from lifecycle.finetune.runs import Run
from lifecycle.text import plot_text

PALETTE = ("#3b6ff5", "#e4572e", "#17a398", "#f3a712", "#8e44ad", "#5d6d7e", "#c0392b")


def _layout(fig, y_title: str, height: int = 300):
    fig.update_layout(
        xaxis_title="step",
        yaxis_title=y_title,
        height=height,
        margin=dict(t=20, b=10),
        legend_orientation="h",
    )
    return fig


def loss_chart(run: Run):
    """Train and validation loss against the step."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for key, name in (("loss", "train"), ("eval_loss", "validation")):
        rows = [m for m in run.metrics if key in m]
        if rows:
            mode = "lines" if key == "loss" else "lines+markers"
            fig.add_scatter(
                x=[m["step"] for m in rows], y=[m[key] for m in rows], name=name, mode=mode
            )
    return _layout(fig, "loss")


def metric_rows(run: Run) -> list[dict]:
    """The validation-metric rows of a run (one per evaluation, step 0 included)."""
    return [m for m in run.metrics if "val_score" in m]


def metric_name(runs: list[Run]) -> str:
    """The metric key the runs logged (e.g. rougeL), or a generic name."""
    return next((m["val_metric"] for r in runs for m in metric_rows(r)), "metric")


def metric_chart(run: Run):
    """The task metric on the validation samples at each evaluation."""
    import plotly.graph_objects as go

    rows = metric_rows(run)
    fig = go.Figure()
    fig.add_scatter(
        x=[m["step"] for m in rows],
        y=[m["val_score"] for m in rows],
        mode="lines+markers",
        name=plot_text(metric_name([run])),
        marker_color=PALETTE[2],
    )
    n = rows[-1].get("val_examples", 0) if rows else 0
    return _layout(fig, f"{plot_text(metric_name([run]))} on {n} validation samples")


def compare_loss_chart(runs: list[Run]):
    """Every run's train loss (line) and validation loss (dashed, markers), overlaid."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, run in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        for key, dash, mode in (("loss", None, "lines"), ("eval_loss", "dash", "lines+markers")):
            rows = [m for m in run.metrics if key in m]
            if rows:
                fig.add_scatter(
                    x=[m["step"] for m in rows],
                    y=[m[key] for m in rows],
                    name=plot_text(f"{run.id} {'train' if key == 'loss' else 'validation'}"),
                    mode=mode,
                    line=dict(color=color, dash=dash),
                )
    return _layout(fig, "loss (solid: train, dashed: validation)", 360)


def compare_metric_chart(runs: list[Run]):
    """Every run's validation metric at its evaluations, overlaid."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, run in enumerate(runs):
        rows = metric_rows(run)
        if rows:
            fig.add_scatter(
                x=[m["step"] for m in rows],
                y=[m["val_score"] for m in rows],
                name=plot_text(run.id),
                mode="lines+markers",
                line=dict(color=PALETTE[i % len(PALETTE)]),
            )
    return _layout(fig, f"{plot_text(metric_name(runs))} (validation samples)", 360)
