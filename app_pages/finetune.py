"""Stage 3, Adapt: fine-tune the model on your data (full or LoRA) as a background job."""

import streamlit as st

from components.deploy.gguf_build import gguf_build_ui
from components.finetune.compare import compare_ui
from components.finetune.data import data_ui
from components.finetune.jobs import commands_ui, delete_ui, live_view
from components.finetune.presets import run_settings_ui, start_from_ui
from components.finetune.report import launch_ui, report_ui
from components.finetune.try_run import evaluate_ui, merge_ui, triable, try_ui, version_ui
from components.finetune.ui import base_model_ui, training_settings_ui
from components.guide.decisions import render_gates
from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.models.background import background_model_ui
from components.project import require_project
from components.resources import get_store
from components.state import Keys
from lifecycle.finetune.jobs import current_status
from lifecycle.finetune.runs import ACTIVE, list_runs
from lifecycle.models.sources import project_model_ref
from lifecycle.overview import overview

project = require_project()
store = get_store()
st.title("3 · Adapt: fine-tune")
render_guide("adapt")
st.caption(
    "When prompting plateaus, teach the model with examples. Jobs run in their own process: "
    "close the tab or restart the app and they keep going; this page re-attaches."
)

runs = [current_status(store, r) for r in list_runs(project.id)]
by_id = {r.id: r for r in runs}
active = [r for r in runs if r.status.state in ACTIVE]
if st.session_state.get(Keys.FT_RUN) not in by_id:
    st.session_state[Keys.FT_RUN] = (active or runs)[0].id if runs else None

new_tab, runs_tab, try_tab = st.tabs(["New run", f"Runs ({len(runs)})", "Try it and evaluate"])
with new_tab:
    ov = overview(store, project.id)
    data = data_ui(project.id, ov.scope.primary_task)
    project_model = project_model_ref(ov.model.id) if ov.model else ""  # from 2 Model selection
    base_ref = base_model_ui(project.id, project_model)
    lm = background_model_ui(base_ref) if base_ref else None  # loads in the background
    if lm is None:
        st.info("The settings and the data report appear once the base model has loaded.")
    elif lm.is_seq2seq:
        st.error("Fine-tuning here supports decoder-only (causal) models: pick another model.")
    else:
        start_from_ui(project.id, runs)
        config, form_problem = training_settings_ui(lm, base_ref, data.task_id)
        st.subheader("Before launch")
        report, problems = report_ui(lm, config, data, form_problem)
        launch_ui(project.id, config, data, report, problems)
        if active:
            st.caption(f"{len(active)} job(s) active: a new one waits in the queue.")

with runs_tab:
    if not runs:
        st.info("No fine-tune yet: launch one in the New run tab.")
    else:
        picked = st.selectbox("Run", list(by_id), key=Keys.FT_RUN)
        live_view(picked, registry_of=project.id)  # the registry refreshes with the progress
        commands_ui(by_id[picked])
        run_settings_ui(project.id, by_id[picked])
        delete_ui(by_id[picked])
        if len(runs) > 1:
            st.subheader("Runs side by side")
            compare_ui(project.id, runs)

with try_tab:
    ready = {r.id: r for r in runs if triable(r) and r.status.state not in ACTIVE}
    if not ready:
        st.info("Once a run completes (or saves a checkpoint), try it here beside its base.")
    else:
        if st.session_state.get(Keys.FT_RUN + "_try") not in ready:
            st.session_state.pop(Keys.FT_RUN + "_try", None)  # deleted, or running again
        pick = st.selectbox("Run", list(ready), key=Keys.FT_RUN + "_try")
        ref = version_ui(ready[pick])
        try_ui(ready[pick], ref)
        st.subheader("Evaluate on held-out data")
        evaluate_ui(project.id, ready[pick], ref)
        st.subheader("Merge and export")
        if ref == ready[pick].ref:
            merge_ui(ready[pick])
            gguf_build_ui(pick)  # F16, Q8_0, Q4_K_M for llama.cpp: then in the Version box
        else:
            st.caption("Merging takes the final model: pick it above (a checkpoint is for trying).")

render_gates("finetune")
render_next("finetune")
