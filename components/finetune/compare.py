"""Runs side by side: overlaid loss and metric curves, the settings that differ, eval scores."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.finetune.charts import compare_loss_chart, compare_metric_chart, metric_rows
from components.resources import get_store
from components.state import Keys
from lifecycle.finetune.compare import eval_scores, settings_diff
from lifecycle.finetune.runs import Run


def compare_ui(project_id: str, runs: list[Run]) -> None:
    """Pick two or more runs; their curves overlaid, their settings diffed, their scores."""
    if len(runs) < 2:
        return
    by_id = {r.id: r for r in runs}
    kept = [i for i in st.session_state.get(Keys.FT_COMPARE) or [] if i in by_id]
    st.session_state[Keys.FT_COMPARE] = kept or list(by_id)[:2]
    picked = st.multiselect("Runs to compare (two or more)", list(by_id), key=Keys.FT_COMPARE)
    chosen = [by_id[i] for i in picked]
    if len(chosen) < 2:
        st.info("Pick at least two runs to see them side by side.")
        return
    if any(r.metrics for r in chosen):
        with_metric = [r for r in chosen if metric_rows(r)]
        left, right = st.columns(2) if with_metric else (st.container(), None)
        left.plotly_chart(compare_loss_chart(chosen), width="stretch", key=Keys.FT_COMPARE_LOSS)
        if right is not None:
            right.plotly_chart(
                compare_metric_chart(with_metric), width="stretch", key=Keys.FT_COMPARE_METRIC
            )
    diff = settings_diff(chosen)
    st.markdown("**Settings that differ**")
    if diff:
        st.dataframe(pd.DataFrame(diff), hide_index=True, width="stretch")
    else:
        st.caption("Every setting is the same: the runs differ only by chance (or not at all).")
    scores = eval_scores(get_store(), project_id, chosen)
    st.markdown("**Evaluation scores**")
    if scores:
        st.dataframe(pd.DataFrame(scores), hide_index=True, width="stretch")
    else:
        st.caption("None of these runs is evaluated yet: use the Try it and evaluate tab.")
