"""Model selection panels: build-vs-reuse advisor, catalogue, memory and compute estimates."""

from __future__ import annotations

from dataclasses import asdict, fields

import streamlit as st

from components.charts import build_vs_reuse_chart, memory_chart
from components.selection.custom import HOW, MAX_CUSTOM_B
from components.state import Keys
from components.untrusted import show_error
from lifecycle.overview import linked_advisor
from lifecycle.scope import Scope
from lifecycle.selection.advisor import (
    CONTROL,
    VOCABULARY,
    Advice,
    AdvisorInput,
    advise,
    compare_routes,
)
from lifecycle.selection.catalog import ModelSpec
from lifecycle.selection.compute import GPUS
from lifecycle.selection.configs import shape_record, spec_from_shape
from lifecycle.selection.memory import (
    EstimateError,
    Workload,
    devices,
    estimate,
    exactness,
    fit_verdict,
    kv_cache_gib,
)
from lifecycle.text import days, gib, md_escape
from lifecycle.typed import dataclass_from

CUSTOM = "__custom__"
# The advisor inputs this page asks for; budget and time are the scope's answers.
ASKED = {f.name for f in fields(AdvisorInput)} - {"params_b", "budget_usd", "time_weeks"}
TOKENS = (1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12)


def tokens_label(n: float) -> str:
    """1e9 -> '1B tokens'."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if n >= size:
            return f"{n / size:.3g}{unit} tokens"
    return f"{n:g} tokens"


def advisor_panel(params_b: float, scope: Scope) -> tuple[AdvisorInput, Advice | None]:
    """Questions about data and control -> a build-vs-reuse recommendation.

    Budget and time are the scope's answers (one input, not two): the advice and the plan check
    against the same numbers.
    """
    k = Keys.MODEL_ADVISOR
    a = scope.answers
    st.caption(
        f"Budget **{a.budget}** and timeline **{a.timeline_weeks} weeks** come from your scope; "
        "change them on the Scope page."
    )
    c1, c3 = st.columns(2)
    c1.selectbox("Domain vocabulary", VOCABULARY, key=k + "vocabulary")
    c1.select_slider(
        "Domain text you have", TOKENS, key=k + "domain_tokens", format_func=tokens_label
    )
    lim = AdvisorInput.LIMITS
    c3.radio("Control over data and weights", CONTROL, key=k + "control")
    with st.expander("Compute assumptions (pre-training fleet)"):
        a1, a2, a3, a4 = st.columns(4)
        a1.selectbox("GPU", list(GPUS), key=k + "gpu")
        a2.number_input("GPUs", *lim["gpus"], key=k + "gpus")
        a3.number_input(
            "Tokens per parameter",
            *lim["tokens_per_param"],
            key=k + "tokens_per_param",
            help="Chinchilla: ~20 is compute-optimal.",
        )
        a4.slider(
            "Utilisation (MFU)",
            *lim["utilisation"],
            key=k + "utilisation",
            help="Share of the GPU's peak FLOP/s a real run reaches; 0.3-0.5 is typical.",
        )
        a1.number_input(
            "USD per GPU-hour (0 = typical price)",
            *lim["usd_per_hour"],
            step=0.1,
            key=k + "usd_per_hour",
        )
    values = {
        f.name: st.session_state[k + f.name]
        for f in fields(AdvisorInput)
        if k + f.name in st.session_state and f.name in ASKED
    }
    inp = linked_advisor(values, scope, params_b)
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
    right.plotly_chart(
        build_vs_reuse_chart(advice.pretrain.cost_usd, advice.reuse.cost_usd), width="stretch"
    )


def kv_per_token(model: ModelSpec) -> str:
    """The KV cache one token adds, in 16 bits ('none' for an encoder)."""
    per_token = kv_cache_gib(model, 1, 1, "fp16/bf16") * 2**30
    return "none (encoder)" if not per_token else f"{per_token / 1024:,.1f} KiB"


def workload_inputs() -> Workload:
    """Context, batch, LoRA rank and checkpointing for the estimates."""
    k = Keys.MODEL_WORK
    c1, c2, c3, c4 = st.columns(4)
    lim = Workload.LIMITS
    c1.number_input("Context (tokens)", *lim["context"], step=512, key=k + "context")
    c2.number_input("Batch", *lim["batch"], key=k + "batch")
    c3.number_input("LoRA rank", *lim["lora_rank"], key=k + "lora_rank")
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
        f"({100 * rows[0].lora_trainable / model.params:.2f} % of the model). "
        f"KV cache: {kv_per_token(model)} per token in 16 bits."
    )
    exact = exactness(model)
    st.caption(
        "**Exact:** "
        + "; ".join(f"{k} ({why})" for k, (kind, why) in exact.items() if kind == "exact")
        + ". **Estimated:** "
        + "; ".join(f"{k} ({why})" for k, (kind, why) in exact.items() if kind == "estimate")
        + "."
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


def compute_panel(advice: Advice, gpus: int) -> None:
    """Pre-training compute C = 6·N·D in numbers, beside the other routes in the same units."""
    p = advice.pretrain
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Compute (FLOPs)", f"{p.flops:.2e}")
    c2.metric("GPU-hours", f"{p.gpu_hours:,.0f}")
    c3.metric("Cost", f"${p.cost_usd:,.0f}")
    c4.metric("Calendar time", days(p.calendar_days))
    st.caption(f"C ≈ 6·N·D with D = {p.tokens / 1e9:,.1f}B tokens, for the final run alone.")
    st.dataframe(
        [
            {
                "Route": r.route,
                "Tokens": tokens_label(r.tokens),
                "FLOPs": f"{r.flops:.2e}",
                "GPU-hours": f"{r.gpu_hours:,.1f}",
                "Cost (USD)": f"{r.cost_usd:,.2f}",
                "Calendar": f"{days(r.calendar_days)} on {r.gpus} GPU"
                + ("s" if r.gpus > 1 else ""),
            }
            for r in compare_routes(advice, gpus)
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(
        "With failed runs: restarts, failed runs and ablations add about half the final run's "
        "compute, and data preparation takes weeks before it starts. Open models of this size "
        "were trained on 2-15T tokens, far more than a compute-optimal run: a model pre-trained "
        "here will be weaker at general language than one you can reuse."
    )


def record_widgets(record: dict, catalog: dict[str, ModelSpec]) -> dict:
    """Widget values for a saved model record."""
    work = asdict(dataclass_from(Workload, record.get("workload")))
    adv = asdict(dataclass_from(AdvisorInput, record.get("advisor")))
    values = {Keys.MODEL_WORK + k: v for k, v in work.items()}
    values.update({Keys.MODEL_ADVISOR + k: v for k, v in adv.items() if k in ASKED})
    values[Keys.MODEL_ADVISOR + "domain_tokens"] = min(
        TOKENS, key=lambda t: abs(t - adv["domain_tokens"])
    )
    model_id = record.get("model_id") or ""
    values[Keys.MODEL_PICK] = model_id if not model_id or model_id in catalog else CUSTOM
    values[Keys.MODEL_CUSTOM_ID] = "" if model_id in catalog else model_id
    params = record.get("custom_params")
    params = params if isinstance(params, int) and not isinstance(params, bool) else 0
    values[Keys.MODEL_CUSTOM_PARAMS] = min(max(params / 1e9, 0.0), MAX_CUSTOM_B)
    shaped = spec_from_shape(record.get("custom_shape"), model_id or "custom")
    values[Keys.MODEL_CUSTOM_SHAPE] = shape_record(shaped) if shaped else None
    how = record.get("custom_how")
    sized = params > 0 and not shaped  # an older record, or a model entered by its size
    values[Keys.MODEL_CUSTOM_HOW] = how if how in HOW else HOW[-1] if sized else HOW[0]
    return values
