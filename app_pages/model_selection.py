"""Stage 2, Model selection: the catalogue, build or reuse, memory and compute, in tabs."""

from dataclasses import asdict
from functools import partial

import streamlit as st

from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.project import require_project
from components.records import save_record, sync_record
from components.resources import get_store
from components.selection.catalogue import catalogue_panel
from components.selection.custom import custom_model_inputs
from components.selection.panels import (
    ASKED,
    CUSTOM,
    advisor_panel,
    compute_panel,
    estimate_panel,
    record_widgets,
    render_advice,
    workload_inputs,
)
from components.state import Keys
from lifecycle.overview import advisor_size, chosen_model
from lifecycle.scope import Scope, task_card
from lifecycle.selection.advisor import AdvisorInput
from lifecycle.selection.catalog import embedded_model, load_catalog
from lifecycle.selection.memory import Workload
from lifecycle.tasks import load_tasks

project = require_project()
catalog, tasks = load_catalog(), load_tasks()
st.title("2 · Select a model")
render_guide("model_selection")
to_widgets = partial(record_widgets, catalog=catalog)
defaults = {
    "model_id": "",
    "custom_params": 0,
    "workload": asdict(Workload()),
    "advisor": {k: v for k, v in asdict(AdvisorInput()).items() if k in ASKED},
}
sync_record(project.id, "model", defaults, to_widgets)
scope_rec = get_store().get_record(project.id, "scope")
scope = Scope.from_dict(scope_rec.data if scope_rec else None)
cards = [task_card(tasks[t], scope.answers) for t in scope.task_ids if t in tasks]

chosen_box = st.container()
catalogue_tab, build_tab, memory_tab, compute_tab = st.tabs(
    ["Catalogue", "Build or reuse", "Memory", "Compute"]
)
with catalogue_tab:
    models = catalogue_panel(catalog, scope, cards)

with chosen_box:
    pick = st.session_state.get(Keys.MODEL_PICK) or ""
    shown = [m.id for m in models] + [embedded_model(catalog).id]  # the one that runs offline
    options = list(dict.fromkeys([""] + shown + ([pick] if pick not in shown else []) + [CUSTOM]))
    labels = {"": "— choose a model —", CUSTOM: "Another model (its config.json, or its size)"}
    pick = st.selectbox(
        "Chosen model",
        options,
        key=Keys.MODEL_PICK,
        format_func=lambda i: labels.get(i) or catalog[i].name + f" ({i})",
    )
    custom_id, custom_params, custom_shape = "", 0, None
    if pick == CUSTOM:
        with st.container(border=True):
            custom_id, custom_params, custom_shape = custom_model_inputs()
    model_id = custom_id if pick == CUSTOM else pick
    model = chosen_model(
        {"model_id": model_id, "custom_params": custom_params, "custom_shape": custom_shape}
    )
    if model:
        st.caption(f"**Licence:** {model.licence}. {model.licence_note}")

with build_tab:
    params_b = advisor_size(model, tuple(cards))
    st.caption(
        f"Sized for {'the chosen model' if model else 'the upper end of your scope'}: "
        f"{params_b:.3g}B parameters."
    )
    adv_in, advice = advisor_panel(params_b, scope)
    if advice:
        render_advice(advice, params_b)

with memory_tab:
    work = workload_inputs()
    if model:
        estimate_panel(model, work)
    else:
        st.info("Choose a model above to see its memory needs per precision and where it fits.")

with compute_tab:
    if advice:
        compute_panel(advice, adv_in.gpus)
    else:
        st.info("The build-or-reuse tab needs valid inputs before compute can be estimated.")

record = {
    "model_id": model_id,
    "custom_params": custom_params,
    "workload": asdict(work),
    "advisor": {k: v for k, v in asdict(adv_in).items() if k in ASKED},
}
if custom_shape:
    record |= {"custom_shape": custom_shape, "custom_how": st.session_state[Keys.MODEL_CUSTOM_HOW]}
save_record(project.id, "model", record, to_widgets)

render_next("model_selection")
