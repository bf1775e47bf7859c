"""Stage 4, Align: collect preferences, train a reward model, best-of-n, DPO, pick a method."""

import streamlit as st

from components.alignment.dpo import chooser_ui, dpo_ui
from components.alignment.prefs import preferences_ui
from components.alignment.reward import (
    best_of_n_ui,
    latest_reward,
    reward_report,
    score_ui,
    train_ui,
)
from components.alignment.ui import pair_ui, prompt_ui, task_ui
from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.project import require_project
from components.resources import get_store
from components.state import Keys
from lifecycle.alignment.preferences import list_preferences
from lifecycle.overview import overview

project = require_project()
store = get_store()
st.title("4 · Align")
render_guide("align")
st.caption(
    "Teach the model what people prefer: judge pairs of completions blind, train a reward model "
    "on the verdicts, let it pick the best of n samples, or align the model itself with DPO."
)

ov = overview(store, project.id)
prefs = list_preferences(store, project.id)
left, right = st.columns([1, 2])
with left:
    task_id = task_ui(ov.scope.primary_task)
with right:
    text = prompt_ui(task_id)

# Lazy tabs: only the open one runs and is drawn (the page's first visit drew all five).
collect_tab, reward_tab, bon_tab, dpo_tab, choose_tab = st.tabs(
    [
        "Collect preferences",  # no count here: a new label would be a new widget (tab reset)
        "Reward model",
        "Best-of-n",
        "DPO",
        "Which method?",
    ],
    key=Keys.ALIGN_TAB,
    on_change="rerun",
)
if collect_tab.open:
    with collect_tab:
        pair_ui(project.id, task_id, text)
        st.divider()
        st.subheader(f"Collected preferences ({len(prefs)})")
        preferences_ui(project.id, prefs)

if reward_tab.open:
    with reward_tab:
        st.caption(
            "A small head over frozen MiniLM sentence embeddings, trained with the pairwise "
            "(Bradley-Terry) loss -log σ(r(chosen) − r(rejected)); ties and both-bad are left out."
        )
        train_ui(project.id, prefs)
        info = latest_reward(project.id)
        if info:
            reward_report(info)
        st.subheader("Score a completion")
        score_ui(project.id, text)

if bon_tab.open:
    with bon_tab:
        st.caption(
            "Sample n completions of the input above and keep the one the reward model scores "
            "highest: alignment at inference time, paid for with n generations."
        )
        best_of_n_ui(project.id, task_id, text)

if dpo_tab.open:
    with dpo_tab:
        dpo_ui(project.id, prefs, task_id)

if choose_tab.open:
    with choose_tab:
        tuned = any(
            f.get("state") == "completed" and f.get("method") != "dpo" for f in ov.finetunes
        )
        chooser_ui(ov.scope.answers, bool(ov.scope.primary_task), prefs, tuned)

render_next("align")
