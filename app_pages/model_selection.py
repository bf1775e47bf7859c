"""Stage 2, Model selection: build or reuse, the catalogue, memory and compute estimates."""

from dataclasses import asdict
from functools import partial

import streamlit as st

from components.guide import render_guide
from components.model_panels import (
    CUSTOM,
    SORTS,
    advisor_panel,
    catalogue_table,
    compute_panel,
    estimate_panel,
    record_widgets,
    render_advice,
    workload_inputs,
)
from components.project import require_project
from components.records import save_record, sync_record
from components.resources import get_store
from components.state import Keys
from lifecycle.overview import chosen_model
from lifecycle.scope import Scope, size_range
from lifecycle.selection.advisor import AdvisorInput
from lifecycle.selection.catalog import filter_models, load_catalog
from lifecycle.selection.memory import Workload
from lifecycle.tasks import load_tasks

project = require_project()
catalog, tasks = load_catalog(), load_tasks()
st.title("2 · Select a model")
render_guide("model_selection")
to_widgets = partial(record_widgets, catalog=catalog)
advisor_defaults = {k: v for k, v in asdict(AdvisorInput()).items() if k != "params_b"}
defaults = {
    "model_id": "",
    "custom_params": 0,
    "workload": asdict(Workload()),
    "advisor": advisor_defaults,
}
sync_record(project.id, "model", defaults, to_widgets)
scope_rec = get_store().get_record(project.id, "scope")
scope = Scope.from_dict(scope_rec.data if scope_rec else None)

st.subheader("Catalogue")
c1, c2, c3 = st.columns(3)
for_tasks = c1.toggle(
    "Only models for my scoped tasks",
    value=bool(scope.task_ids),
    key=Keys.MODEL_FOR_TASKS,
    disabled=not scope.task_ids,
)
commercial = c2.toggle("Commercial use allowed", key=Keys.MODEL_COMMERCIAL)
sort = c3.selectbox("Sort by", list(SORTS), key="model_sort")
models = filter_models(catalog, scope.task_ids if for_tasks else (), commercial_only=commercial)
catalogue_table(models, sort)

pick = st.session_state.get(Keys.MODEL_PICK) or ""
options = [""] + [m.id for m in models] + ([pick] if pick not in {m.id for m in models} else [])
options = list(dict.fromkeys(options + [CUSTOM]))
labels = {"": "— choose a model —", CUSTOM: "Another model (enter its id and size)"}
pick = st.selectbox(
    "Chosen model",
    options,
    key=Keys.MODEL_PICK,
    format_func=lambda i: labels.get(i) or catalog[i].name + f" ({i})",
)
custom_id, custom_params = "", 0
if pick == CUSTOM:
    c1, c2 = st.columns(2)
    custom_id = c1.text_input(
        "Hugging Face id or local path", key=Keys.MODEL_CUSTOM_ID, max_chars=300
    ).strip()
    size_b = c2.number_input(
        "Parameters (billions)",
        min_value=0.0,
        max_value=10_000.0,
        step=0.1,
        format="%.3f",
        key=Keys.MODEL_CUSTOM_PARAMS,
    )
    custom_params = int(round(size_b * 1e9))
    if not custom_id or custom_params <= 0:
        st.error("Enter the model's id and a positive number of parameters to use it.")
model_id = custom_id if pick == CUSTOM else pick
model = chosen_model({"model_id": model_id, "custom_params": custom_params})
if model:
    st.caption(f"**Licence:** {model.licence}. {model.licence_note}")

st.subheader("Build or reuse?")
cards_high = [size_range(tasks[t], scope.answers)[1] for t in scope.task_ids]
params_b = model.params_b if model else max(cards_high, default=1.0)
st.caption(
    f"Sized for {'the chosen model' if model else 'the upper end of your scope'}: "
    f"{params_b:.3g}B parameters."
)
adv_in, advice = advisor_panel(params_b)
if advice:
    render_advice(advice, params_b)

st.subheader("Memory")
work = workload_inputs()
if model:
    estimate_panel(model, work)
else:
    st.info("Choose a model above to see its memory needs per precision and where it fits.")

st.subheader("Pre-training compute")
if advice:
    compute_panel(advice)

advisor = {k: v for k, v in asdict(adv_in).items() if k != "params_b"}
save_record(
    project.id,
    "model",
    {
        "model_id": model_id,
        "custom_params": custom_params,
        "workload": asdict(work),
        "advisor": advisor,
    },
    to_widgets,
)
