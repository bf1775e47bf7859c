"""Deploy page, measuring: the model, the quality set, the variants, progress and the results."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.deploy.charts import size_chart, speed_quality_chart
from components.deploy.gguf_build import gguf_build_ui
from components.models.load import embedded_ready_ui
from components.models.pick import pick_model, shipped_set_for
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error, show_warning
from lifecycle.deploy.benchmark import measure_variants
from lifecycle.deploy.gguf_variants import run_id_of
from lifecycle.deploy.measure import (
    MeasureConfig,
    VariantReport,
    available_variants,
    load_measurements,
    save_measurements,
)
from lifecycle.deploy.tradeoff import tradeoff
from lifecycle.deploy.variants import DeployError
from lifecycle.evaluation.datasets import EvalSet, load_shipped, shipped_index
from lifecycle.models import EMBEDDED
from lifecycle.text import md_escape

MIB = 2**20
MAX_EXAMPLES = 20  # each example is one generation per variant: 20 x 3 variants is minutes


def model_ui(project_id: str) -> str:
    """The model to optimise: the embedded one, a finished run, or a folder."""
    return pick_model(
        "Model to optimise",
        Keys.DEPLOY_MODEL,
        project_id,
        help="A LoRA run also gets a merged variant; bf16, int8 and a run's GGUF variants "
        "(F16, Q8_0, Q4_K_M for llama.cpp) start from the merged model.",
    )


def set_ui(task_id: str) -> EvalSet:
    """The shipped set whose test split measures quality (the scoped task's by default)."""
    sets = {d["id"]: d["name"] for d in shipped_index()}
    if st.session_state.get(Keys.DEPLOY_SET) not in sets:
        st.session_state[Keys.DEPLOY_SET] = shipped_set_for(task_id) or next(iter(sets))
    set_id = st.selectbox(
        "Quality measured on (test split)", list(sets), key=Keys.DEPLOY_SET, format_func=sets.get
    )
    return load_shipped(set_id, "test")


def variants_ui(ref: str) -> list[str]:
    """The variants to build for this model: all of them by default; a variant that becomes
    available (another model, GGUF files just built) joins the choice, one the user removed
    stays out."""
    names = list(available_variants(ref))
    offered = st.session_state.get(Keys.DEPLOY_VARIANTS_OFFERED)
    if offered != names:
        chosen = st.session_state.get(Keys.DEPLOY_VARIANTS)
        if chosen is None:
            picked = names
        elif offered is None:  # chosen before the page first drew (a link, a test)
            picked = [n for n in names if n in chosen] or names
        else:
            picked = [n for n in names if n in chosen or n not in offered]
        st.session_state[Keys.DEPLOY_VARIANTS] = picked
        st.session_state[Keys.DEPLOY_VARIANTS_OFFERED] = names
    return st.multiselect("Variants to build and measure", names, key=Keys.DEPLOY_VARIANTS)


def measure_ui(project_id: str, ref: str, evalset: EvalSet) -> None:
    """Choose the variants and the slice, then build and measure them with progress."""
    if run_id_of(ref):
        gguf_build_ui(run_id_of(ref))  # in the background: measuring them follows here
    try:
        names = variants_ui(ref)
    except DeployError as err:
        show_error(err)
        return
    st.session_state.setdefault(Keys.DEPLOY_EXAMPLES, MeasureConfig().examples)
    n = st.slider(
        "Examples for speed and quality",
        1,
        min(MAX_EXAMPLES, len(evalset.examples)),
        key=Keys.DEPLOY_EXAMPLES,
        help="The same greedy prompts for every variant; about 10 s an example on this CPU. "
        "Quality on fewer than 10 examples is mostly noise: its interval says how much.",
    )
    if not st.button(
        "Build and measure", type="primary", icon=":material/speed:", disabled=not names
    ):
        return
    if not ensure_embedded(ref):
        return
    bar = st.progress(0.0, text="Starting...")
    reports = measure_variants(
        ref,
        evalset,
        tuple(names),
        MeasureConfig(examples=int(n)),
        on_step=lambda what, done: bar.progress(min(1.0, done), text=md_escape(what)),
    )
    save_measurements(get_store(), project_id, ref, evalset.name, reports)
    st.session_state[Keys.DEPLOY_SHOWN] = ref


def ensure_embedded(ref: str) -> bool:
    """True once the embedded model's fp32 folder exists (its conversion's progress shown)."""
    return ref != EMBEDDED or embedded_ready_ui()  # in the background, its progress in view


def saved_ui(project_id: str, ref: str) -> tuple[str, list[VariantReport]]:
    """The saved measurements to show: this model's, or another measured model's."""
    saved = load_measurements(get_store(), project_id)
    if not saved:
        return "", []
    refs = list(saved)
    if st.session_state.get(Keys.DEPLOY_SHOWN) not in refs:
        st.session_state[Keys.DEPLOY_SHOWN] = ref if ref in refs else refs[0]
    if ref not in refs:
        st.caption("This model has no measurement yet; the saved ones of another model follow.")
    if len(refs) > 1 or ref not in refs:
        st.selectbox("Saved measurements of", refs, key=Keys.DEPLOY_SHOWN)
    shown = st.session_state[Keys.DEPLOY_SHOWN]
    return shown, saved[shown]


def spread(values: tuple[float, ...], digits: int = 2) -> str:
    """'8.10 – 8.90' for a (low, high) pair; empty for older records without one."""
    return f"{values[0]:.{digits}f} – {values[1]:.{digits}f}" if len(values) == 2 else ""


def results_table(reports: list[VariantReport]) -> pd.DataFrame:
    """One row per measured variant: medians with their spread, quality with its interval."""
    key = next((r.quality_key for r in reports if r.quality_key), "quality")
    rows = [
        {
            "variant": r.label or r.name,
            "disk (MiB)": round(r.disk_bytes / MIB, 1),
            "memory (MiB)": round(r.memory_bytes / MIB, 1),
            "load (s, median)": r.load_s,
            "first token (s, median)": r.ttft_s,
            "first token IQR": spread(r.ttft_range, 3),
            "tokens/s (median)": r.tokens_per_s,
            "tokens/s IQR": spread(r.tokens_per_s_range, 1),
            key: round(r.primary, 4),
            f"{key} 95 % CI": spread(r.quality_range, 3),
            "examples": r.examples,
            "note": r.note,
        }
        for r in reports
        if not r.error
    ]
    return pd.DataFrame(rows)


def results_ui(ref: str, reports: list[VariantReport]) -> None:
    """Failures, the table, the trade-off in sentences, and the charts."""
    set_name = next((r.set_name for r in reports if r.set_name), "")
    on = f" · quality on {md_escape(set_name)}" if set_name else ""
    st.markdown(f"**Measured on this machine** · {md_escape(ref)}{on}")
    for r in reports:
        if r.error:
            show_warning(f"{r.label or r.name}: {r.error}")
    good = [r for r in reports if not r.error]
    if not good:
        return
    st.dataframe(results_table(reports), hide_index=True, width="stretch")
    # Plain sentences, but with variant names and metrics from saved (maybe imported) records.
    st.markdown("\n".join(f"- {md_escape(line)}" for line in tradeoff(reports)))
    left, right = st.columns(2)
    left.plotly_chart(speed_quality_chart(reports), width="stretch", key=Keys.DEPLOY_SPEED_CHART)
    right.plotly_chart(size_chart(reports), width="stretch", key=Keys.DEPLOY_SIZE_CHART)
