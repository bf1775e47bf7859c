"""Playground: the Run panel (a streamed answer, what is sent) and the Compare tab (variants
side by side)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import streamlit as st

from components.models.load import load_ui
from components.models.pick import pick_model
from components.playground.ui import metrics_ui, stream_into
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error, show_untrusted, show_warning
from lifecycle.models import (
    EMBEDDED,
    ContextError,
    GenerationError,
    GenerationResult,
    GenParams,
    render_prompt,
)
from lifecycle.prompting import SHOTS, FittedPrompt, PromptError, PromptSpec, fit_prompt
from lifecycle.text import md_escape
from lifecycle.versions import (
    list_versions,
    record_run,
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


def _variant_ui(i: int, project_id: str, versions: dict, base: Variant) -> Variant:
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
    model = pick_model(
        "Model",
        k + "model",
        project_id,
        serving=True,
        runs=False,
        gguf=True,
        preferred=base.model_ref,
        preferred_as="",
    )
    return Variant(
        base.label,
        model or EMBEDDED,
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
                _variant_ui(
                    i, project_id, versions, Variant("ABC"[i], ref or EMBEDDED, spec, params)
                )
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
        lm = load_ui(v.model_ref)
        if not lm:
            return
        fitted = _fitted(lm, v.spec, values, v.params)
        if fitted is None:
            return
        result = _stream(st.chat_message("assistant"), lm, fitted, v.params)
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
                fitted.messages,
                result,
            )


def _fitted(lm, spec: PromptSpec, values: dict, params: GenParams):
    """The prompt as it will be sent to this model (input cut if allowed), or None, shown why."""
    try:
        return fit_prompt(lm, spec, values, params)
    except (PromptError, GenerationError) as err:
        show_error(err)
        return None


def _stream(box, lm, fitted: FittedPrompt, params: GenParams) -> GenerationResult | None:
    """Stream the fitted prompt; the result counts the input tokens cut before sending."""
    result = stream_into(box, lm, fitted.messages, params)
    if result is not None:
        result.truncated_tokens += fitted.dropped_tokens
    return result


def _sent_panel(lm, spec: PromptSpec, values: dict, params: GenParams, messages: list) -> None:
    """The text the model will read (cut to fit when truncation is on) and its length."""
    with st.expander("What is sent to the model", expanded=False):
        if lm is None:
            st.caption("The chat messages (the exact text appears once the model is loaded):")
            st.json(messages, expanded=2)
            return
        try:
            fitted = fit_prompt(lm, spec, values, params)
        except ContextError as err:  # shown whole, with why it cannot be sent as it is
            show_warning(err)
            fitted = FittedPrompt(messages, err.prompt_tokens)
        except (PromptError, GenerationError) as err:
            show_error(err)
            return
        about = "" if lm.exact_tokens else "about "  # no local tokenizer: estimated
        st.progress(
            min(fitted.prompt_tokens / lm.context_window, 1.0),
            text=f"Prompt: {about}{fitted.prompt_tokens:,} of {lm.context_window:,} tokens in "
            "the window",
        )
        if fitted.dropped_tokens:
            st.warning(
                f"The input is cut to fit: {fitted.dropped_tokens:,} of its tokens are dropped "
                f"(its first {fitted.kept_chars:,} characters are kept, marked “[…]” where it "
                "ends). The system message, instruction, examples and template are whole."
            )
        if not lm.exact_tokens:
            st.caption("Sent as these chat messages; the server applies the model's template.")
        st.code(render_prompt(lm, fitted.messages), language=None, wrap_lines=True)


def run_panel(
    project_id: str,
    ref: str,
    task_id: str,
    spec: PromptSpec,
    values: dict,
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
    if go:  # a new run: an error or a stop must not leave the last run's figures below it
        st.session_state[Keys.PLAY_LAST] = None
    fitted = _fitted(lm, spec, values, params) if go and lm and messages else None
    if fitted:
        stop.button("Stop", icon=":material/stop:")
        result = _stream(st.chat_message("assistant"), lm, fitted, params)
        stop.empty()  # the run is over: nothing left to stop
        if result:
            st.session_state[Keys.PLAY_LAST] = asdict(result)
            record_run(
                get_store(),
                project_id,
                "playground",
                ref,
                task_id,
                spec,
                params,
                fitted.messages,
                result,
            )
    last = st.session_state.get(Keys.PLAY_LAST)
    if last and not go:
        show_untrusted(last["text"], markdown=True, container=st.chat_message("assistant"))
    if last:
        metrics_ui(GenerationResult(**last))
    if messages:
        _sent_panel(lm, spec, values, params, messages)
