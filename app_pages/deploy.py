"""Stage 6, Deploy: optimised variants measured here, a serving what-if, and the export."""

import streamlit as st

from components.deploy.serve import export_ui, whatif_ui
from components.deploy.ui import measure_ui, model_ui, results_ui, saved_ui, set_ui
from components.guide.decisions import render_gates
from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.project import require_project
from components.resources import get_store
from lifecycle.overview import overview
from lifecycle.stages import guide_sections
from lifecycle.text import md_code

project = require_project()
store = get_store()
st.title("6 · Deploy")
render_guide("deploy")
st.caption(
    "Make the model cheaper to run, then check what it still does well: build bf16, int8 and "
    "merged variants and, for a fine-tune run, GGUF variants (F16, Q8_0, Q4_K_M) for llama.cpp; "
    "measure size, speed and quality on this machine side by side, size the serving, export "
    "(a GGUF exports with a Modelfile, ready for llama-server and Ollama)."
)

ov = overview(store, project.id)
measure_tab, whatif_tab, export_tab, further_tab = st.tabs(
    ["Variants", "Serving what-if", "Export", "Distil and prune"]
)
with measure_tab:
    left, right = st.columns(2)
    with left:
        ref = model_ui(project.id)
    with right:
        evalset = set_ui(ov.scope.primary_task)
    if ref:
        measure_ui(project.id, ref, evalset)
    else:
        st.info("Type the folder of a saved model (config.json and safetensors weights).")
    shown, reports = saved_ui(project.id, ref)
    if reports:
        results_ui(shown, reports)
    else:
        st.info("No measurement yet: pick the variants and press Build and measure.")

with whatif_tab:
    st.caption("How many machines the traffic needs and what 1,000 requests cost.")
    whatif_ui(reports)

with export_tab:
    if reports:
        st.caption(f"Variants measured for {md_code(shown)}.")
    export_ui(shown, reports)

with further_tab:
    sections = guide_sections("deploy")
    st.markdown(sections.get("Going further", ""))
    st.markdown("**Pitfalls**\n\n" + sections.get("Pitfalls", ""))
    st.caption(
        "Distillation and pruning need training runs of their own, so this page measures "
        "quantization (no training) and leaves those two as guidance."
    )

render_gates("deploy")
render_next("deploy")
