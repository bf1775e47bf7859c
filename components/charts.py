"""Plotly figures used by the pages (built from core results; imported lazily)."""

from __future__ import annotations

import math

from lifecycle.plan import PlanRow
from lifecycle.selection.memory import Device, MemoryRow


def memory_chart(rows: list[MemoryRow], devices: list[Device]):
    """Grouped bars of inference, full fine-tune and LoRA memory per precision; GPUs as lines.

    The y axis is logarithmic (a 70B model's training and a 135M model's int4 weights differ by
    10^4). Plotly places shapes at data values but annotations at log10 of them on a log axis, so
    each label is put at log10(GiB) explicitly, and the range is fixed to the data.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    values = []
    series = (
        ("Inference", "inference"),
        ("Full fine-tune (Adam)", "full_finetune"),
        ("LoRA / QLoRA", "lora"),
    )
    for label, attr in series:
        ys = [getattr(r, attr) for r in rows]  # None (no int8 full fine-tune) draws no bar
        fig.add_bar(name=label, x=[r.precision for r in rows], y=ys)
        values += [y for y in ys if y]
    for memory, names in _device_lines(devices):
        fig.add_hline(y=memory, line_dash="dot", line_width=1, line_color="#888")
        fig.add_annotation(
            xref="paper",
            x=0,
            xanchor="left",
            yref="y",
            y=math.log10(memory),
            yanchor="bottom",
            text=f"{names} ({memory:.0f} GiB)",
            showarrow=False,
            font_size=11,
        )
        values.append(memory)
    fig.update_layout(
        barmode="group",
        yaxis_title="GiB (log scale)",
        yaxis_type="log",
        yaxis_range=log_range(values),
        height=420,
        margin=dict(t=30, b=10),
        legend_orientation="h",
    )
    return fig


def _device_lines(devices: list[Device]) -> list[tuple[float, str]]:
    """One line per memory size: GPUs of the same size share a line and a label."""
    sizes: dict[float, list[str]] = {}
    for device in devices:
        if device.memory_gib > 0:
            sizes.setdefault(round(device.memory_gib, 1), []).append(device.name)
    return [(memory, " / ".join(names)) for memory, names in sorted(sizes.items())]


def log_range(values: list[float], pad: float = 0.15) -> list[float]:
    """A log10 axis range just around the positive values (a 15 % margin in log units)."""
    positive = [v for v in values if v and v > 0] or [1.0]
    return [math.log10(min(positive)) - pad, math.log10(max(positive)) + pad]


def build_vs_reuse_chart(pretrain_usd: float, reuse_usd: float):
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
