"""Plotly figures used by the pages (built from core results; imported lazily)."""

from __future__ import annotations

from lifecycle.plan import PlanRow
from lifecycle.selection.memory import Device, MemoryRow


def memory_chart(rows: list[MemoryRow], devices: list[Device]):
    """Grouped bars of inference, full fine-tune and LoRA memory per precision; GPUs as lines."""
    import plotly.graph_objects as go

    fig = go.Figure()
    series = (
        ("Inference", "inference"),
        ("Full fine-tune (Adam)", "full_finetune"),
        ("LoRA / QLoRA", "lora"),
    )
    for label, attr in series:
        fig.add_bar(
            name=label, x=[r.precision for r in rows], y=[getattr(r, attr) or 0 for r in rows]
        )
    for device in devices:
        fig.add_hline(
            y=device.memory_gib,
            line_dash="dot",
            line_width=1,
            annotation_text=device.name,
            annotation_position="top left",
        )
    fig.update_layout(
        barmode="group",
        yaxis_title="GiB (log scale)",
        yaxis_type="log",
        height=420,
        margin=dict(t=30, b=10),
        legend_orientation="h",
    )
    return fig


def cost_chart(pretrain_usd: float, reuse_usd: float):
    """Pre-training cost beside reuse + LoRA, on a log axis (they differ by orders of magnitude)."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=["Pre-train from scratch", "Reuse + LoRA"],
            y=[max(pretrain_usd, 0.01), max(reuse_usd, 0.01)],
            text=[f"${pretrain_usd:,.0f}", f"${reuse_usd:,.2f}"],
            marker_color=["#d62728", "#2ca02c"],
        )
    )
    fig.update_layout(
        yaxis_type="log", yaxis_title="USD (log scale)", height=300, margin=dict(t=20, b=10)
    )
    return fig


def gantt_chart(rows: list[PlanRow]):
    """The stages on a timeline (first on top), critical ones highlighted."""
    import pandas as pd
    import plotly.express as px

    frame = pd.DataFrame(
        [
            {
                "Stage": r.title,
                "Start": pd.Timestamp(r.start),
                "End": pd.Timestamp(r.end if r.days else r.start)
                + pd.Timedelta(hours=0 if r.days else 12),
                "Days": r.days,
                "Path": "critical" if r.critical else f"slack {r.slack} days",
            }
            for r in rows
        ]
    )
    frame["Path"] = frame["Path"].where(frame["Path"] == "critical", "has slack")
    fig = px.timeline(
        frame,
        category_orders={"Stage": [r.title for r in rows]},
        x_start="Start",
        x_end="End",
        y="Stage",
        color="Path",
        hover_data=["Days"],
        color_discrete_map={"critical": "#d62728", "has slack": "#1f77b4"},
    )
    fig.update_yaxes(title=None)
    fig.update_layout(height=380, margin=dict(t=20, b=10), legend_title_text=None)
    return fig
