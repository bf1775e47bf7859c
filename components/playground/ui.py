"""Playground widgets: the model, decoding knobs, prompt editor, streamed runs."""

from __future__ import annotations

from dataclasses import fields

import streamlit as st

from components.models.pick import pick_model
from components.state import Keys
from components.untrusted import show_error, stream_untrusted
from lifecycle.models import ChatModel, GenParams
from lifecycle.models.generation import MAX_NEW_TOKENS, GenerationError, GenerationResult, stream
from lifecycle.models.progress import heartbeat, prefill_rate, record_prefill, waiting_line
from lifecycle.prompting import SHOTS, PromptError, PromptSpec, variables
from lifecycle.tasks import load_tasks
from lifecycle.text import md_escape

# GenParams fields that have a widget of their own (stop sequences have a text area).
KNOBS = (
    "max_new_tokens",
    "do_sample",
    "temperature",
    "top_k",
    "top_p",
    "repetition_penalty",
    "seed",
    "truncate",
)
WAITING_HELP = (
    "One generation runs at a time per model (tabs share it), and a long prompt is read in "
    "full before the first token: the estimate uses this model's last measured reading speed."
)
HELP = {
    "max_new_tokens": "Upper bound on the answer's length in tokens (about 3/4 of a word each).",
    "do_sample": "Off: greedy, always the likeliest token (repeatable). On: draw tokens at random "
    "from the distribution shaped by the knobs below.",
    "temperature": "Below 1 sharpens the distribution (safer), above 1 flattens it (more varied).",
    "top_k": "Draw only among the k likeliest tokens (0 = no limit).",
    "top_p": "Draw only among the likeliest tokens whose probabilities add up to p.",
    "repetition_penalty": "Above 1 makes tokens already used less likely; 1 = off.",
    "seed": "Same seed + same settings = the same sampled answer.",
}


def model_choice_ui(project_id: str, project_model: str) -> str:
    """Pick the model: embedded (either runtime), an endpoint, the project's model, any id."""
    return pick_model(
        "Model",
        Keys.PLAY_MODEL,
        project_id,
        serving=True,
        runs=False,
        preferred=project_model,
        help="The embedded model runs offline on transformers, or on llama.cpp (faster) when "
        "installed; endpoints are OpenAI-compatible servers added in Settings.",
    )


def params_ui() -> GenParams:
    """Decoding knobs in the sidebar, each with a short help text."""
    k = Keys.PLAY_PARAM
    with st.sidebar:
        st.subheader("Decoding")
        st.number_input(
            "Max new tokens",
            1,
            MAX_NEW_TOKENS,
            key=k + "max_new_tokens",
            help=HELP["max_new_tokens"],
        )
        sample = st.toggle("Sampling", key=k + "do_sample", help=HELP["do_sample"])
        st.slider(
            "Temperature",
            0.0,
            2.0,
            key=k + "temperature",
            disabled=not sample,
            help=HELP["temperature"],
        )
        st.number_input("Top-k", 0, 1000, key=k + "top_k", disabled=not sample, help=HELP["top_k"])
        st.slider("Top-p", 0.0, 1.0, key=k + "top_p", disabled=not sample, help=HELP["top_p"])
        st.slider(
            "Repetition penalty",
            0.5,
            2.0,
            key=k + "repetition_penalty",
            help=HELP["repetition_penalty"],
        )
        st.number_input("Seed", 0, 2**31 - 1, key=k + "seed", help=HELP["seed"])
        st.text_area(
            "Stop sequences (one per line)",
            key=Keys.PLAY_STOP_TEXT,
            height=68,
            help="Generation ends before any of these strings appears.",
        )
        st.checkbox(
            "Truncate over-long prompts",
            key=k + "truncate",
            help="When the prompt does not fit the context window, cut the end of the input "
            "(the system message, instruction, examples and template stay) instead of refusing.",
        )
    values = {
        f.name: st.session_state[k + f.name]
        for f in fields(GenParams)
        if f.name in KNOBS and k + f.name in st.session_state
    }
    stops = tuple(s for s in st.session_state.get(Keys.PLAY_STOP_TEXT, "").splitlines() if s)
    return GenParams(**{**values, "stop": stops})


def reset_prompt_to_task() -> None:
    """When the task changes, load its prompt kit into the editor."""
    task = load_tasks().get(st.session_state.get(Keys.PLAY_TASK) or "")
    if task:
        spec = PromptSpec.for_task(task)
        st.session_state[Keys.PLAY_SYSTEM] = spec.system
        st.session_state[Keys.PLAY_INSTRUCTION] = spec.instruction
        st.session_state[Keys.PLAY_TEMPLATE] = spec.template
        st.session_state[Keys.PLAY_VAR + "input"] = task.example_inputs[0]


def prompt_ui() -> tuple[str, PromptSpec, dict[str, str]]:
    """Task, shots, system/instruction/template and the template's variables."""
    tasks = load_tasks()
    left, right = st.columns([2, 3])
    task_id = left.selectbox(
        "Task",
        list(tasks),
        key=Keys.PLAY_TASK,
        format_func=lambda t: tasks[t].name,
        on_change=reset_prompt_to_task,
    )
    shots = right.segmented_control(
        "Examples in the prompt (shots)",
        SHOTS,
        key=Keys.PLAY_SHOTS,
        help="0 = zero-shot; more examples teach format and style.",
    )
    with st.expander("System message and instruction"):
        st.text_area("System message", key=Keys.PLAY_SYSTEM, height=80)
        st.text_area("Instruction", key=Keys.PLAY_INSTRUCTION, height=68)
    template = st.text_area(
        "Template ({variables} are filled below)", key=Keys.PLAY_TEMPLATE, height=80
    )
    values: dict[str, str] = {}
    try:
        names = variables(template)
    except PromptError as err:
        show_error(err)
        names = []
    for name in names:
        widget = st.text_area if name == "input" else st.text_input
        values[name] = widget(f"{{{name}}}", key=Keys.PLAY_VAR + name)
    spec = PromptSpec(
        st.session_state.get(Keys.PLAY_SYSTEM, ""),
        st.session_state.get(Keys.PLAY_INSTRUCTION, ""),
        template,
        int(shots if shots is not None else 0),
        tasks[task_id].prompt.examples,
    )
    return task_id, spec, values


def stream_into(
    box, lm: ChatModel, messages: list[dict], params: GenParams
) -> GenerationResult | None:
    """Stream an answer into `box`, with signs of life until its first token; the text so far
    survives a stop pressed mid-way."""
    try:
        run = stream(lm, messages, params)
    except GenerationError as err:
        show_error(err, box)
        return None
    st.session_state[Keys.PLAY_PARTIAL] = ""
    area = box.container()  # also when `box` is a placeholder: room for two slots
    waiting = area.empty()  # the queue and the prompt's reading; gone with the first token

    def chunks():
        shown = False
        for chunk in heartbeat(run):
            if not chunk:  # a heartbeat: before the first token, say what the model is doing
                if run.progress.phase != "answer":
                    line = waiting_line(run.progress, prefill_rate(lm.ref))
                    waiting.caption(line, help=WAITING_HELP)
                    shown = True
                continue
            if shown:  # the answer has begun: the waiting line goes
                waiting.empty()
                shown = False
            st.session_state[Keys.PLAY_PARTIAL] += chunk
            yield chunk

    try:
        stream_untrusted(area, chunks())
    except GenerationError as err:
        show_error(err, box)
        return None
    finally:
        waiting.empty()
    st.session_state[Keys.PLAY_PARTIAL] = None
    record_prefill(lm.ref, run.result.prompt_tokens, run.result.ttft_s)
    return run.result


def metrics_line(result: GenerationResult) -> str:
    """Tokens, the wait (queue included) and speed of one run, in one line."""
    ttft = f"{result.ttft_s:.2f} s" if result.ttft_s is not None else "n/a"
    about = "" if result.counts == "exact" else "≈ "  # the server reported no usage
    wait = f"latency {result.total_s:.2f} s"
    if result.queue_s >= 0.05:
        wait += (
            f" ({result.queue_s:.1f} s waiting for another tab, "
            f"{result.latency_s:.1f} s generating)"
        )
    dropped = (
        f" · {result.truncated_tokens:,} input tokens dropped to fit the window"
        if result.truncated_tokens
        else ""
    )
    return (
        f"{about}{result.prompt_tokens:,} prompt + {result.completion_tokens:,} completion "
        f"tokens · {wait} · first token {ttft} · {result.tokens_per_s:.1f} tokens/s · "
        f"ended by {md_escape(result.finish_reason)}{dropped}"
    )


def metrics_ui(result: GenerationResult, container=None) -> None:
    """Tokens and speed of one run."""
    (container or st).caption(metrics_line(result))
