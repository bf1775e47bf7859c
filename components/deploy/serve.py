"""Deploy page, serving: the what-if (machines and cost) and the export with serve commands."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from components.deploy.charts import serving_cost_chart
from components.state import Keys
from components.untrusted import show_error, show_warning
from lifecycle.config import data_home
from lifecycle.deploy.export import (
    ExportExists,
    check_export_target,
    export_variant,
    serve_commands,
)
from lifecycle.deploy.measure import VariantReport
from lifecycle.deploy.variants import DeployError
from lifecycle.deploy.whatif import Traffic, WhatIfError, compare
from lifecycle.text import md_escape, slug, usd

MEASURED, ENTERED = "measured", "entered"


def _num(label: str, field: str, default, help: str | None = None, **kw):
    key = Keys.DEPLOY_TRAFFIC + field
    return st.number_input(label, value=default, key=key, help=help, **kw)


def traffic_ui() -> Traffic:
    """The load to serve and what a machine costs."""
    d = Traffic()
    c = st.columns(3)
    with c[0]:
        rpd = _num("Requests per day", "requests_per_day", d.requests_per_day, step=1000.0)
        peak = _num("Peak / average traffic", "peak_factor", d.peak_factor, step=0.5)
    with c[1]:
        prompt = _num("Prompt tokens per request", "prompt_tokens", d.prompt_tokens, step=50)
        prefill = _num(
            "Prompt tokens/s (0 = decode speed)",
            "prefill_tokens_per_s",
            d.prefill_tokens_per_s,
            "Prefill reads the prompt in parallel, usually far faster than decoding; 0 counts "
            "it at the decode speed (pessimistic).",
            step=100.0,
        )
    with c[2]:
        completion = _num(
            "Completion tokens per request", "completion_tokens", d.completion_tokens, step=10
        )
        cost = _num("Cost per machine-hour", "cost_per_hour", d.cost_per_hour, step=0.1)
    return Traffic(
        float(rpd), int(prompt), int(completion), float(peak), float(cost), float(prefill)
    )


def throughputs_ui(reports: list[VariantReport]) -> dict[str, float]:
    """Tokens/s per source: the measured variants, or a GPU server's published figure."""
    measured = {f"{r.name} (measured here)": r.tokens_per_s for r in reports if r.tokens_per_s}
    if not measured:
        st.caption("Measure variants in the first tab to compare this machine's own speed.")
    else:
        labels = {MEASURED: "The measured variants", ENTERED: "A GPU server's throughput"}
        source = st.radio(
            "Throughput",
            [MEASURED, ENTERED],
            key=Keys.DEPLOY_TPS_SOURCE,
            format_func=labels.get,
            horizontal=True,
        )
        if source == MEASURED:
            return measured
    tps = st.number_input(
        "Tokens/s of one GPU server (all concurrent requests together)",
        min_value=0.0,
        value=1000.0,
        step=100.0,
        key=Keys.DEPLOY_GPU_TPS,
        help="From a published benchmark of your model on your GPU with a batching server "
        "(vLLM, TGI); set the cost per machine-hour to that GPU's price.",
    )
    return {"GPU server (entered)": float(tps)}


def whatif_ui(reports: list[VariantReport]) -> None:
    """Machines needed and cost per 1,000 requests for each throughput."""
    traffic = traffic_ui()
    throughputs = throughputs_ui(reports)
    try:
        results = compare(throughputs, traffic)
    except WhatIfError as err:
        show_error(err)
        return
    if not results:
        st.info("Enter a throughput above 0 tokens/s.")
        return
    rows = [
        {
            "throughput from": name,
            "tokens/s": round(w.tokens_per_s, 1),
            "s per request": round(w.seconds_per_request, 2),
            "peak requests/s": round(w.peak_requests_per_s, 3),
            "machines": w.machines,
            "peak utilisation": f"{w.peak_utilisation:.0%}",
            "cost per day": usd(w.cost_per_day),
            "cost per 1,000 requests": usd(w.cost_per_1000),
        }
        for name, w in results.items()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.plotly_chart(serving_cost_chart(results), width="stretch", key=Keys.DEPLOY_COST_CHART)
    st.caption(
        "One machine is assumed to serve one request at a time at this speed, sized for the "
        "peak hour. Measured figures are single-stream CPU speeds; a batching GPU server "
        "serves many requests at once, so enter its aggregate throughput instead."
    )


def export_ui(ref: str, reports: list[VariantReport]) -> None:
    """Copy a measured variant with a README of its figures; confirm before overwriting."""
    built = {r.name: r for r in reports if not r.error and r.folder}
    if not built:
        st.info("Measure a variant first: the export copies its folder with its measured figures.")
        return
    if st.session_state.get(Keys.DEPLOY_EXPORT_VARIANT) not in built:
        st.session_state[Keys.DEPLOY_EXPORT_VARIANT] = next(iter(built))
    variant = st.selectbox(
        "Variant", list(built), key=Keys.DEPLOY_EXPORT_VARIANT, on_change=_suggest_path, args=(ref,)
    )
    st.session_state.setdefault(Keys.DEPLOY_EXPORT_PATH, default_path(ref, variant))
    path = st.text_input("Export folder", key=Keys.DEPLOY_EXPORT_PATH).strip()
    try:
        target = check_export_target(path) if path else None
    except DeployError as err:
        show_error(err)  # refused before anything is written: nothing to confirm
        target = None
    occupied = _occupied(target)
    if occupied:  # only the app's own exports get here: anything else was refused above
        just_made = (st.session_state.get(Keys.DEPLOY_EXPORTED) or {}).get("folder")
        label = (
            "Replace it with a new export?"
            if just_made == str(target)
            else f"Replace the earlier export in {md_escape(target)}?"
        )
        st.checkbox(label, key=Keys.DEPLOY_EXPORT_OVERWRITE)
    sure = not occupied or st.session_state.get(Keys.DEPLOY_EXPORT_OVERWRITE, False)
    baseline = next((r for r in reports if r.name == "fp32" and not r.error), None)
    st.button(
        "Export",
        icon=":material/folder_zip:",
        disabled=not (target and sure),
        on_click=_export,
        args=(built[variant], target, ref, occupied, baseline),
    )
    exported_ui()


def default_path(ref: str, variant: str) -> str:
    """exports/<model>-<variant> in the data folder."""
    return str(data_home() / "exports" / slug(f"{Path(ref).name or ref}-{variant}", "model"))


def _suggest_path(ref: str) -> None:
    st.session_state[Keys.DEPLOY_EXPORT_PATH] = default_path(
        ref, st.session_state[Keys.DEPLOY_EXPORT_VARIANT]
    )


def _occupied(target: Path | None) -> bool:
    try:
        return bool(target and target.is_dir() and any(target.iterdir()))
    except OSError:
        return False  # unreadable: the export itself says why


def _export(
    report: VariantReport,
    target: Path,
    ref: str,
    overwrite: bool,
    baseline: VariantReport | None,
) -> None:
    st.session_state[Keys.DEPLOY_EXPORT_OVERWRITE] = False
    try:
        folder = export_variant(report, target, ref, overwrite=overwrite, baseline=baseline)
    except ExportExists as err:
        st.session_state[Keys.DEPLOY_EXPORTED] = {"warning": str(err)}
    except DeployError as err:
        st.session_state[Keys.DEPLOY_EXPORTED] = {"error": str(err)}
    else:
        st.session_state[Keys.DEPLOY_EXPORTED] = {"folder": str(folder), "variant": report.name}


def exported_ui() -> None:
    """The outcome of the last export, with the commands that serve it."""
    last = st.session_state.get(Keys.DEPLOY_EXPORTED) or {}
    if "error" in last:
        show_error(last["error"])
    elif "warning" in last:
        show_warning(last["warning"])
    elif "folder" in last:
        where = md_escape(last["folder"])
        variant = md_escape(last["variant"])
        st.success(f"Exported the {variant} variant to {where} (with a README).")
        commands = serve_commands(Path(last["folder"]), last["variant"])
        if not commands:
            st.info(
                "Dynamic int8 weights are a PyTorch CPU format that vLLM and TGI cannot read: "
                "load them with lifecycle.deploy.variants.load_variant, or export bf16 and let "
                "the server quantize it (vLLM --quantization fp8, TGI --quantize eetq)."
            )
        for name, command in commands.items():
            st.markdown(f"**{md_escape(name)}**")
            st.code(command, language="python" if "Python" in name else "bash", wrap_lines=True)
