"""Playground tabs: compare variants side by side, prompt versions, run history."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import streamlit as st

from components.model_pick import serving_pick
from components.playground import load_ui, metrics_ui, record_widgets, stream_into, version_record
from components.project import flash
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error, show_untrusted
from lifecycle.models import EMBEDDED, GenerationResult, GenParams, count_tokens, render_prompt
from lifecycle.prompting import SHOTS, PromptError, PromptSpec, build_messages
from lifecycle.store import StoreError
from lifecycle.text import md_escape, safe_markdown
from lifecycle.versions import (
    delete_version,
    diff_versions,
    export_json,
    list_runs,
    list_versions,
    record_run,
    runs_csv,
    save_version,
)

CURRENT = "current"
DEFAULT_SHOTS = (0, 3, 5)  # variant A, B, C start as zero-, three- and five-shot


@dataclass(frozen=True)
class Variant:
    """One column of a comparison."""

    label: str
    model_ref: str
    spec: PromptSpec
    params: GenParams


def _variant_ui(i: int, versions: dict, base: Variant) -> Variant:
    k = f"{Keys.PLAY_VARIANT}{i}_"
    source = st.selectbox(
        "Prompt",
        [CURRENT, *versions],
        key=k + "source",
        format_func=lambda v: "Current editor" if v == CURRENT else versions[v].name,
    )
    if source != CURRENT:
        v = versions[source]
        base = Variant(base.label, v.model_ref, v.prompt, v.params)
    k += source + "_"  # a new source starts from its own settings
    default = base.spec.shots if source != CURRENT else DEFAULT_SHOTS[i]
    shots = st.selectbox("Shots", SHOTS, index=SHOTS.index(default), key=k + "shots")
    sample = st.toggle("Sampling", value=base.params.do_sample, key=k + "sample")
    temp = st.slider(
        "Temperature", 0.0, 2.0, base.params.temperature, key=k + "temp", disabled=not sample
    )
    model = serving_pick(st, base.model_ref, k)
    return Variant(
        base.label,
        model,
        replace(base.spec, shots=shots),
        replace(base.params, do_sample=sample, temperature=temp),
    )


def compare_tab(
    project_id: str, ref: str, task_id: str, spec: PromptSpec, values: dict, params: GenParams
) -> None:
    """2-3 variants on the same input, side by side, with tokens and speed."""
    st.caption("The same input through different prompts, shots, settings or models.")
    st.session_state.setdefault(Keys.PLAY_VARIANTS, 2)
    n = st.segmented_control("Variants", (2, 3), key=Keys.PLAY_VARIANTS) or 2
    versions = {v.id: v for v in list_versions(get_store(), project_id)}
    cols = st.columns(n)
    variants = []
    for i, col in enumerate(cols):
        with col:
            st.markdown(f"**Variant {'ABC'[i]}**")
            variants.append(
                _variant_ui(i, versions, Variant("ABC"[i], ref or EMBEDDED, spec, params))
            )
    if st.button("Run all variants", icon=":material/compare_arrows:"):
        st.session_state[Keys.PLAY_COMPARE] = {}
        for col, v in zip(cols, variants):
            _run_variant(col, project_id, task_id, v, values)
    elif st.session_state.get(Keys.PLAY_COMPARE):
        for col, v in zip(cols, variants):
            done = st.session_state[Keys.PLAY_COMPARE].get(v.label)
            if done:
                show_untrusted(done["text"], markdown=True, container=col.chat_message("assistant"))
                metrics_ui(GenerationResult(**done), col)


def _run_variant(col, project_id: str, task_id: str, v: Variant, values: dict) -> None:
    with col:
        try:
            messages = build_messages(v.spec, values)
        except PromptError as err:
            show_error(err)
            return
        lm = load_ui(v.model_ref)
        if not lm:
            return
        result = stream_into(st.chat_message("assistant"), lm, messages, v.params)
        if result:
            metrics_ui(result)
            st.session_state[Keys.PLAY_COMPARE][v.label] = asdict(result)
            record_run(
                get_store(),
                project_id,
                f"compare {v.label}",
                v.model_ref,
                task_id,
                v.spec,
                v.params,
                messages,
                result,
            )


def _sent_panel(lm, messages: list[dict]) -> None:
    """The exact text the model reads and its length against the window."""
    with st.expander("What is sent to the model", expanded=False):
        if lm is None:
            st.caption("The chat messages (the exact text appears once the model is loaded):")
            st.json(messages, expanded=2)
            return
        used = count_tokens(lm, messages)
        about = "" if lm.exact_tokens else "about "  # no local tokenizer: estimated
        st.progress(
            min(used / lm.context_window, 1.0),
            text=f"Prompt: {about}{used:,} of {lm.context_window:,} tokens in the window",
        )
        if not lm.exact_tokens:
            st.caption("Sent as these chat messages; the server applies the model's template.")
        st.code(render_prompt(lm, messages), language=None, wrap_lines=True)


def run_panel(
    project_id: str,
    ref: str,
    task_id: str,
    spec: PromptSpec,
    messages: list[dict],
    params: GenParams,
) -> None:
    """Run the prompt: streamed answer, a Stop button, tokens and speed; kept in the history."""
    loaded = st.session_state.get(Keys.PLAY_LOADED) == ref  # then loading again is instant
    left, mid, right = st.columns([1, 1, 4])
    go = left.button("Run", type="primary", icon=":material/play_arrow:", disabled=not messages)
    stop = mid.empty()
    partial = st.session_state.get(Keys.PLAY_PARTIAL)
    if partial and not go:
        st.warning("Stopped before the end; the answer so far:")
        show_untrusted(partial, markdown=True)
    lm = load_ui(ref) if (go or loaded) and ref else None
    if go and not ref:
        st.error("Enter a model id or folder first.")
    if lm:
        st.session_state[Keys.PLAY_LOADED] = ref
        right.caption(
            f"{md_escape(lm.name)} · {md_escape(lm.runtime)} · window {lm.context_window:,} tokens"
        )
    if go and lm and messages:
        stop.button("Stop", icon=":material/stop:")
        result = stream_into(st.chat_message("assistant"), lm, messages, params)
        stop.empty()  # the run is over: nothing left to stop
        if result:
            st.session_state[Keys.PLAY_LAST] = asdict(result)
            record_run(
                get_store(), project_id, "playground", ref, task_id, spec, params, messages, result
            )
    last = st.session_state.get(Keys.PLAY_LAST)
    if last and not go:
        show_untrusted(last["text"], markdown=True, container=st.chat_message("assistant"))
    if last:
        metrics_ui(GenerationResult(**last))
    if messages:
        _sent_panel(lm, messages)


def _save(project_id: str, ref: str, task_id: str, spec: PromptSpec, params: GenParams) -> None:
    try:
        v = save_version(
            get_store(),
            project_id,
            st.session_state[Keys.PLAY_VERSION_NAME],
            task_id,
            spec,
            params,
            ref,
        )
        flash(f"Saved version “{md_escape(v.name)}”.")
        st.session_state[Keys.PLAY_VERSION_NAME] = ""
    except StoreError as err:
        flash(safe_markdown(str(err)))


def _load(project_id: str, version, project_model: str) -> None:
    data = version_record(version, project_model)
    st.session_state.update(record_widgets(data))
    flash(f"Loaded version “{md_escape(version.name)}” into the editor.")


def _delete(project_id: str, version_id: str) -> None:
    delete_version(get_store(), project_id, version_id)
    flash("Version deleted.")


def versions_tab(
    project_id: str,
    ref: str,
    task_id: str,
    spec: PromptSpec,
    params: GenParams,
    project_model: str = "",
) -> None:
    """Save, list, load, diff, delete and export prompt versions."""
    with st.form("play_save_version", border=False):
        st.text_input(
            "Version name",
            key=Keys.PLAY_VERSION_NAME,
            max_chars=200,
            placeholder="e.g. 3-shot, greedy",
        )
        st.form_submit_button(
            "Save the current prompt as a version",
            icon=":material/save:",
            on_click=_save,
            args=(project_id, ref, task_id, spec, params),
        )
    versions = list_versions(get_store(), project_id)
    if not versions:
        st.info("No versions yet: save the prompt above to keep it with its settings and model.")
        return
    st.dataframe(
        [
            {
                "Name": v.name,
                "Saved": v.created_at,
                "Task": v.task_id,
                "Shots": v.prompt.shots,
                "Sampling": v.params.do_sample,
                "Temperature": v.params.temperature,
                "Max new tokens": v.params.max_new_tokens,
                "Model": v.model_ref,
            }
            for v in versions
        ],
        hide_index=True,
        width="stretch",
    )
    by_id = {v.id: v for v in versions}
    pick = st.selectbox(
        "Version", list(by_id), format_func=lambda i: by_id[i].name, key="play_version_pick"
    )
    c1, c2, c3 = st.columns(3)
    c1.button("Load into the editor", on_click=_load, args=(project_id, by_id[pick], project_model))
    sure = c3.checkbox("Confirm delete", key="play_version_delete_ok")
    c2.button("Delete", disabled=not sure, on_click=_delete, args=(project_id, pick))
    a, b = st.columns(2)
    first = a.selectbox(
        "Diff from",
        list(by_id),
        format_func=lambda i: by_id[i].name,
        key=f"{Keys.PLAY_DIFF}a{len(by_id)}",
    )
    second = b.selectbox(
        "to",
        list(by_id),
        index=len(by_id) - 1,
        format_func=lambda i: by_id[i].name,
        key=f"{Keys.PLAY_DIFF}b{len(by_id)}",
    )
    diff = diff_versions(by_id[first], by_id[second])
    st.code(diff or "The two versions are identical.", language="diff")


def history_tab(project_id: str) -> None:
    """Every run of this project's playground, newest first, exportable."""
    runs = list_runs(get_store(), project_id)
    if not runs:
        st.info("Runs appear here once you press Run or Run all variants.")
        return
    st.dataframe(
        [
            {
                k: r.get(k)
                for k in (
                    "created_at",
                    "label",
                    "model",
                    "shots",
                    "do_sample",
                    "temperature",
                    "prompt_tokens",
                    "completion_tokens",
                    "latency_s",
                    "ttft_s",
                    "tokens_per_s",
                    "output",
                )
            }
            for r in runs[:200]
        ],
        hide_index=True,
        width="stretch",
    )
    versions = list_versions(get_store(), project_id)
    c1, c2 = st.columns(2)
    c1.download_button(
        "Runs as CSV", runs_csv(runs), "playground-runs.csv", "text/csv", icon=":material/table:"
    )
    c2.download_button(
        "Versions and runs as JSON",
        export_json(versions, runs),
        "playground.json",
        "application/json",
        icon=":material/data_object:",
    )
