"""Plotly figures of the align page: reward-model loss, best-of-n rewards, DPO's rewards."""

from __future__ import annotations

from lifecycle.alignment.best_of_n import BestOfN

BEST, OTHER = "#2e7d32", "#9e9e9e"


def reward_loss_chart(losses: list[float], val_losses: list[float] = ()):
    """Bradley-Terry loss per step, on the training pairs and on unseen folds of them."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=list(range(1, len(losses) + 1)), y=losses, mode="lines", name="train")
    if val_losses:
        fig.add_scatter(
            x=list(range(1, len(val_losses) + 1)),
            y=list(val_losses),
            mode="lines",
            name="unseen pairs (cross-validated)",
            line=dict(dash="dash"),
        )
        fig.add_vline(x=len(losses), line_dash="dot", annotation_text="stopped here")
    fig.add_hline(y=0.6931, line_dash="dot", annotation_text="chance (ln 2)")
    fig.update_layout(
        xaxis_title="step",
        yaxis_title="pairwise loss",
        height=280,
        margin=dict(t=20, b=10),
        legend_orientation="h",
    )
    return fig


def best_of_n_chart(result: BestOfN):
    """The reward of each sample; the pick in green, the average single sample as a line."""
    import plotly.graph_objects as go

    labels = [f"seed {s.seed}" for s in result.samples]
    colors = [BEST if i == result.best_index else OTHER for i in range(len(result.samples))]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[s.reward for s in result.samples], marker_color=colors)
    fig.add_hline(y=result.mean_reward, line_dash="dot", annotation_text="average sample")
    fig.update_layout(yaxis_title="reward", height=280, margin=dict(t=20, b=10))
    return fig


def dpo_rewards_chart(metrics: list[dict]):
    """DPO's implicit reward margin and how often chosen beats rejected, per step."""
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for key, name, axis in (
        ("rewards/margins", "margin (train)", False),
        ("eval_rewards/margins", "margin (held out)", False),
        ("rewards/accuracies", "chosen wins (train)", True),
        ("eval_rewards/accuracies", "chosen wins (held out)", True),
    ):
        rows = [m for m in metrics if key in m]
        if rows:
            mode = "lines+markers" if key.startswith("eval_") else "lines"
            x, y = [m["step"] for m in rows], [m[key] for m in rows]
            fig.add_scatter(x=x, y=y, name=name, mode=mode, secondary_y=axis)
    fig.update_yaxes(title_text="reward margin", secondary_y=False)
    fig.update_yaxes(title_text="share of pairs", range=[0, 1.05], secondary_y=True)
    fig.update_layout(xaxis_title="step", height=300, margin=dict(t=20, b=10))
    fig.update_layout(legend_orientation="h")
    return fig
