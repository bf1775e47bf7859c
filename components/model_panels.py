"""Model selection panels: build-vs-reuse advisor, catalogue, memory and compute estimates."""

from __future__ import annotations

from dataclasses import asdict, fields

import streamlit as st

from components.charts import cost_chart, memory_chart
from components.state import Keys
from components.untrusted import show_error
from lifecycle.selection.advisor import CONTROL, VOCABULARY, Advice, AdvisorInput, advise
from lifecycle.selection.catalog import ModelSpec
from lifecycle.selection.compute import GPUS
from lifecycle.selection.memory import (
    EstimateError,
    Workload,
    devices,
    estimate,
    fit_verdict,
)
from lifecycle.text import days, gib, md_escape

CUSTOM = "__custom__"
TOKENS = (1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12)
SORTS = {
    "Size": "params",
    "Context": "context_length",
    "Licence": "licence",
    "Released": "released",
}


def tokens_label(n: float) -> str:
    """1e9 -> '1B tokens'."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if n >= size:
            return f"{n / size:g}{unit} tokens"
    return f"{n:g} tokens"


def advisor_panel(params_b: float) -> tuple[AdvisorInput, Advice | None]:
    """Questions about data, budget, time and control -> a build-vs-reuse recommendation."""
    k = Keys.MODEL_ADVISOR
    c1, c2, c3 = st.columns(3)
    c1.selectbox("Domain vocabulary", VOCABULARY, key=k + "vocabulary")
    c1.select_slider(
        "Domain text you have", TOKENS, key=k + "domain_tokens", format_func=tokens_label
    )
    c2.number_input("Budget (USD)", min_value=0.0, step=1000.0, key=k + "budget_usd")
    c2.number_input(
        "Time available (weeks)", min_value=0.0, max_value=520.0, step=1.0, key=k + "time_weeks"
    )
    c3.radio("Control over data and weights", CONTROL, key=k + "control")
    with st.expander("Compute assumptions (pre-training fleet)"):
        a1, a2, a3, a4 = st.columns(4)
        a1.selectbox("GPU", list(GPUS), key=k + "gpu")
        a2.number_input("GPUs", min_value=1, max_value=100_000, key=k + "gpus")
        a3.number_input(
            "Tokens per parameter",
            min_value=0.0,
            max_value=10_000.0,
            key=k + "tokens_per_param",
            help="Chinchilla: ~20 is compute-optimal.",
        )
        a4.slider(
            "Utilisation (MFU)",
            0.05,
            1.0,
            key=k + "utilisation",
            help="Share of the GPU's peak FLOP/s a real run reaches; 0.3-0.5 is typical.",
        )
        a1.number_input(
            "USD per GPU-hour (0 = typical price)", min_value=0.0, step=0.1, key=k + "usd_per_hour"
        )
    values = {
        f.name: st.session_state[k + f.name]
        for f in fields(AdvisorInput)
        if k + f.name in st.session_state
    }
    inp = AdvisorInput(**{**values, "params_b": params_b})
    try:
        return inp, advise(inp)
    except ValueError as err:
        show_error(err)
        return inp, None


def render_advice(advice: Advice, params_b: float) -> None:
    """The recommendation, its rule, reasons and the cost comparison."""
    box = st.success if advice.decision.startswith("reuse") else st.warning
    box(f"**Recommendation: {advice.decision}** for a {params_b:.3g}B model. Rule {advice.rule}.")
    left, right = st.columns([3, 2])
    left.markdown("\n".join(f"- {r}" for r in advice.reasons))
    right.plotly_chart(cost_chart(advice.pretrain.cost_usd, advice.reuse.cost_usd), width="stretch")


def catalogue_table(models: list[ModelSpec], sort: str) -> None:
    """The filtered catalogue as a sortable table."""
    rows = sorted(models, key=lambda m: getattr(m, SORTS[sort]))
    st.dataframe(
        [
            {
                "Model": m.name,
                "Hub id": m.id,
                "Params (B)": round(m.params_b, 3),
                "Architecture": m.architecture,
                "Context": m.context_length,
                "Licence": m.licence,
                "Commercial": m.licence_commercial,
                "Released": m.released,
                "Offline": "embedded" if m.embedded else "",
                "Notes": m.notes,
            }
            for m in rows
        ],
        hide_index=True,
        width="stretch",
    )


def workload_inputs() -> Workload:
    """Context, batch, LoRA rank and checkpointing for the estimates."""
    k = Keys.MODEL_WORK
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input(
        "Context (tokens)", min_value=0, max_value=2_000_000, step=512, key=k + "context"
    )
    c2.number_input("Batch", min_value=0, max_value=4096, key=k + "batch")
    c3.number_input("LoRA rank", min_value=0, max_value=1024, key=k + "lora_rank")
    c4.checkbox("Gradient checkpointing", key=k + "gradient_checkpointing")
    return Workload(**{f.name: st.session_state[k + f.name] for f in fields(Workload)})


def estimate_panel(model: ModelSpec, work: Workload) -> None:
    """Memory per precision and the fit verdict on each device."""
    try:
        rows = estimate(model, work)
    except EstimateError as err:
        show_error(f"Cannot estimate: {err}")
        return
    if work.context > model.context_length:
        st.warning(
            f"{md_escape(model.name)} reads at most {model.context_length:,} tokens; "
            f"{work.context:,} is beyond its window."
        )
    st.dataframe(
        [
            {
                "Precision": r.precision,
                "Weights": gib(r.weights),
                "KV cache": gib(r.kv_cache),
                "Inference": gib(r.inference),
                "Full fine-tune (Adam)": gib(r.full_finetune),
                "LoRA (QLoRA at int4)": gib(r.lora),
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(
        f"LoRA trains {rows[0].lora_trainable:,} parameters "
        f"({100 * rows[0].lora_trainable / model.params:.2f} % of the model)."
    )
    verdicts = [
        {
            "Device": d.name,
            "Memory": gib(d.memory_gib),
            **{f"{r.precision} inference": fit_verdict(r.inference, d) for r in rows},
            "Full FT bf16": fit_verdict(rows[1].full_finetune, d),
            "LoRA bf16": fit_verdict(rows[1].lora, d),
            "QLoRA": fit_verdict(rows[3].lora, d),
        }
        for d in devices()
    ]
    st.dataframe(verdicts, hide_index=True, width="stretch")
    st.plotly_chart(memory_chart(rows, devices()[:-1]), width="stretch")


def compute_panel(advice: Advice) -> None:
    """Pre-training compute C = 6·N·D in numbers."""
    p = advice.pretrain
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Compute (FLOPs)", f"{p.flops:.2e}")
    c2.metric("GPU-hours", f"{p.gpu_hours:,.0f}")
    c3.metric("Cost", f"${p.cost_usd:,.0f}")
    c4.metric("Calendar time", days(p.calendar_days))
    st.caption(
        f"C ≈ 6·N·D with D = {p.tokens / 1e9:,.1f}B tokens. Reuse + LoRA instead: "
        f"{advice.reuse.gpu_hours:,.1f} GPU-hours, ${advice.reuse.cost_usd:,.2f}."
    )


def record_widgets(record: dict, catalog: dict[str, ModelSpec]) -> dict:
    """Widget values for a saved model record."""
    work = {**asdict(Workload()), **(record.get("workload") or {})}
    adv = {**asdict(AdvisorInput()), **(record.get("advisor") or {})}
    adv.pop("params_b")
    values = {Keys.MODEL_WORK + k: v for k, v in work.items()}
    values.update({Keys.MODEL_ADVISOR + k: v for k, v in adv.items()})
    values[Keys.MODEL_ADVISOR + "domain_tokens"] = min(
        TOKENS, key=lambda t: abs(t - adv["domain_tokens"])
    )
    model_id = record.get("model_id") or ""
    values[Keys.MODEL_PICK] = model_id if not model_id or model_id in catalog else CUSTOM
    values[Keys.MODEL_CUSTOM_ID] = "" if model_id in catalog else model_id
    values[Keys.MODEL_CUSTOM_PARAMS] = (record.get("custom_params") or 0) / 1e9
    return values
