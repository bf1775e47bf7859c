"""The lineage graph as a Plotly figure: one column per kind of artefact, an arrow per source."""

from __future__ import annotations

from lifecycle.lineage import COLUMNS, Lineage
from lifecycle.text import plot_text

COLOURS = {
    "scope": "#4c78a8",
    "model": "#f58518",
    "prompt version": "#54a24b",
    "data": "#b279a2",
    "fine-tune run": "#e45756",
    "evaluation": "#72b7b2",
    "deploy variant": "#9d755d",
}
LABEL_CHARS = 28  # longer labels are cut on the drawing; the hover shows them whole


def positions(graph: Lineage) -> dict[str, tuple[int, int]]:
    """Each node's (column, row): its kind's column, rows in the order the nodes were found."""
    used: dict[int, int] = {}
    out = {}
    for node in graph.nodes.values():
        column = COLUMNS[node.kind]
        out[node.id] = (column, used.get(column, 0))
        used[column] = used.get(column, 0) + 1
    return out


def lineage_chart(graph: Lineage):
    """Nodes as labelled markers by column, edges as lines from each source to what it made."""
    import plotly.graph_objects as go

    where = positions(graph)
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in graph.edges:
        xs += [where[a][0], where[b][0], None]
        ys += [-where[a][1], -where[b][1], None]
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line=dict(color="#bbb", width=1),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    for kind in COLUMNS:
        nodes = [n for n in graph.nodes.values() if n.kind == kind]
        if not nodes:
            continue
        fig.add_scatter(
            x=[where[n.id][0] for n in nodes],
            y=[-where[n.id][1] for n in nodes],
            mode="markers+text",
            name=kind,
            marker=dict(size=16, color=COLOURS[kind]),
            text=[plot_text(_short(n.label)) for n in nodes],
            hovertext=[plot_text(f"{kind}: {n.label}") for n in nodes],
            hoverinfo="text",
            textposition="bottom center",
        )
    rows = max((row for _, row in where.values()), default=0) + 1
    fig.update_layout(
        height=180 + 70 * rows,
        margin=dict(t=30, b=10, l=10, r=10),
        legend_orientation="h",
        xaxis=dict(visible=False, range=[-0.6, max(COLUMNS.values()) + 0.6]),
        yaxis=dict(visible=False, range=[-rows + 0.3, 0.6]),
    )
    return fig


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
