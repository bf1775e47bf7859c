"""Stage 3, Adapt: the prompt playground, in-context learning on a real local model."""

import streamlit as st

from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.playground.record import current_record, record_defaults, record_widgets
from components.playground.tabs import compare_tab, run_panel
from components.playground.ui import model_choice_ui, params_ui, prompt_ui
from components.playground.versions import history_tab, versions_tab
from components.project import require_project
from components.records import save_record, sync_record
from components.resources import get_store
from components.untrusted import show_error
from lifecycle.models.sources import project_model_ref
from lifecycle.overview import overview
from lifecycle.prompting import PromptError, build_messages
from lifecycle.tasks import load_tasks

project = require_project()
store, tasks = get_store(), load_tasks()
ov = overview(store, project.id)
st.title("3 · Adapt: prompt playground")
render_guide("adapt")
task_id = ov.scope.primary_task or "chatbot"
sync_record(project.id, "playground", record_defaults(tasks[task_id]), record_widgets)

project_model = project_model_ref(ov.model.id) if ov.model else ""  # from 2 Model selection
ref = model_choice_ui(project.id, project_model)
params = params_ui()
task_id, spec, values = prompt_ui()

try:
    messages = build_messages(spec, values)
except PromptError as err:
    messages = []
    show_error(err)

run_tab, compare, versions, history = st.tabs(["Run", "Compare", "Versions", "History"])
with run_tab:
    run_panel(project.id, ref, task_id, spec, values, messages, params)
with compare:
    compare_tab(project.id, ref, task_id, spec, values, params)
with versions:
    versions_tab(project.id, ref, task_id, spec, params, project_model)
with history:
    history_tab(project.id)

save_record(project.id, "playground", current_record(task_id, spec, values, params), record_widgets)

render_next("playground")
