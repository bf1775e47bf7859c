"""Playground widgets: model picker and loader, decoding knobs, prompt editor, streamed runs."""

from __future__ import annotations

from dataclasses import asdict, fields

import streamlit as st

from components.serving import open_model, serving_options
from components.state import Keys
from components.untrusted import show_error, stream_untrusted
from lifecycle.models import EMBEDDED, ChatModel, GenParams, ModelLoadError
from lifecycle.models.generation import GenerationError, GenerationResult, stream
from lifecycle.models.sources import convert_embedded, embedded_ready
from lifecycle.prompting import SHOTS, PromptError, PromptSpec, variables
from lifecycle.serving import default_ref
from lifecycle.settings import load_settings
from lifecycle.tasks import Task, load_tasks
from lifecycle.text import md_escape
from lifecycle.typed import dataclass_from
from lifecycle.versions import PromptVersion

OTHER = "other"
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


def model_choice_ui(project_model: str) -> str:
    """Pick the model: embedded (either runtime), an endpoint, the project's model, any id."""
    labels = serving_options()
    options = [*labels, *([project_model] if project_model not in labels else []), OTHER]
    labels[OTHER] = "Another model (hub id, local folder or llamacpp:/path/model.gguf)"
    if st.session_state.get(Keys.PLAY_MODEL) not in options:
        st.session_state[Keys.PLAY_MODEL] = options[0]
    choice = st.selectbox(
        "Model",
        options,
        key=Keys.PLAY_MODEL,
        format_func=lambda o: labels.get(o, f"Project's model: {o}"),
        help="The embedded model runs offline on transformers, or on llama.cpp (faster) when "
        "installed; endpoints are OpenAI-compatible servers added in Settings.",
    )
    if choice != OTHER:
        return choice
    return st.text_input(
        "Hugging Face id or local folder",
        key=Keys.PLAY_MODEL_OTHER,
        placeholder="/path/to/saved/model or owner/name",
    ).strip()


def load_ui(ref: str) -> ChatModel | None:
    """The loaded model, converting the embedded one first with progress; errors shown."""
    try:
        if ref == EMBEDDED and not embedded_ready():
            with st.status("Preparing the embedded model (once, about 30 s)...") as status:
                bar = st.progress(0.0)

                def step(what: str, done: float) -> None:
                    status.update(label=what)
                    bar.progress(done)

                convert_embedded(step)
                status.update(label="Embedded model ready", state="complete")
        with st.spinner(f"Loading {md_escape(ref)}..."):
            return open_model(ref)
    except ModelLoadError as err:
        show_error(err)
        return None


def params_ui() -> GenParams:
    """Decoding knobs in the sidebar, each with a short help text."""
    k = Keys.PLAY_PARAM
    with st.sidebar:
        st.subheader("Decoding")
        st.number_input(
            "Max new tokens", 0, 4096, key=k + "max_new_tokens", help=HELP["max_new_tokens"]
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
            help="Drop the start of a prompt that does not fit the context window "
            "instead of refusing it.",
        )
    values = {
        f.name: st.session_state[k + f.name]
        for f in fields(GenParams)
        if k + f.name in st.session_state
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
    """Stream an answer into `box`; the text so far survives a stop pressed mid-way."""
    try:
        run = stream(lm, messages, params)
    except GenerationError as err:
        show_error(err, box)
        return None
    if lm.waiting or lm.lock.locked():
        box.info("Waiting for another tab's generation to finish...")
    st.session_state[Keys.PLAY_PARTIAL] = ""

    def chunks():
        for chunk in run:
            st.session_state[Keys.PLAY_PARTIAL] += chunk
            yield chunk

    try:
        stream_untrusted(box, chunks())
    except GenerationError as err:
        show_error(err, box)
        return None
    st.session_state[Keys.PLAY_PARTIAL] = None
    return run.result


def metrics_ui(result: GenerationResult, container=None) -> None:
    """Tokens and speed of one run."""
    c = container or st
    ttft = f"{result.ttft_s:.2f} s" if result.ttft_s is not None else "n/a"
    about = "" if result.counts == "exact" else "≈ "  # the server reported no usage
    c.caption(
        f"{about}{result.prompt_tokens:,} prompt + {result.completion_tokens:,} completion "
        "tokens · "
        f"latency {result.latency_s:.2f} s · first token {ttft} · "
        f"{result.tokens_per_s:.1f} tokens/s · ended by {md_escape(result.finish_reason)}"
        + (
            f" · {result.truncated_tokens:,} prompt tokens dropped"
            if result.truncated_tokens
            else ""
        )
    )


def record_defaults(task: Task) -> dict:
    """The playground record before the user changes anything: the task's prompt kit."""
    kit = PromptSpec.for_task(task)
    return {
        "model": default_ref(load_settings()),
        "model_other": "",
        "task": task.id,
        "shots": 0,
        "system": kit.system,
        "instruction": kit.instruction,
        "template": kit.template,
        "values": {"input": task.example_inputs[0]},
        "params": {**asdict(GenParams()), "stop": []},  # JSON keeps lists, not tuples
    }


def current_record(task_id: str, spec: PromptSpec, values: dict, params: GenParams) -> dict:
    """The playground record as the widgets stand now."""
    choice = st.session_state.get(Keys.PLAY_MODEL)
    return {
        "model": choice,
        "model_other": st.session_state.get(Keys.PLAY_MODEL_OTHER, "") if choice == OTHER else "",
        "task": task_id,
        "shots": spec.shots,
        "system": spec.system,
        "instruction": spec.instruction,
        "template": spec.template,
        "values": values,
        "params": {**asdict(params), "stop": list(params.stop)},
    }


def record_widgets(data: dict) -> dict:
    """Widget values for a saved playground record (clamped to what the widgets accept)."""
    tasks = load_tasks()
    p = dataclass_from(GenParams, data.get("params"))
    shots = data.get("shots")
    values = {
        Keys.PLAY_MODEL: data.get("model") or EMBEDDED,
        Keys.PLAY_MODEL_OTHER: str(data.get("model_other") or ""),
        Keys.PLAY_TASK: data["task"] if data.get("task") in tasks else next(iter(tasks)),
        Keys.PLAY_SHOTS: shots if shots in SHOTS else 0,
        Keys.PLAY_SYSTEM: str(data.get("system", "")),
        Keys.PLAY_INSTRUCTION: str(data.get("instruction", "")),
        Keys.PLAY_TEMPLATE: str(data.get("template", "")),
        Keys.PLAY_STOP_TEXT: "\n".join(p.stop),
    }
    clamp = {
        "max_new_tokens": (0, 4096),
        "temperature": (0.0, 2.0),
        "top_k": (0, 1000),
        "top_p": (0.0, 1.0),
        "repetition_penalty": (0.5, 2.0),
        "seed": (0, 2**31 - 1),
    }
    for name, value in asdict(p).items():
        if name in clamp:
            value = min(max(value, clamp[name][0]), clamp[name][1])
        if name != "stop":
            values[Keys.PLAY_PARAM + name] = value
    for name, value in (data.get("values") or {}).items():
        values[Keys.PLAY_VAR + str(name)] = str(value)
    return values


def version_record(version: PromptVersion, project_model: str) -> dict:
    """A playground record that reproduces a saved version."""
    known = version.model_ref in (EMBEDDED, project_model)
    return {
        "model": version.model_ref if known else OTHER,
        "model_other": "" if known else version.model_ref,
        "task": version.task_id,
        "shots": version.prompt.shots,
        "system": version.prompt.system,
        "instruction": version.prompt.instruction,
        "template": version.prompt.template,
        "params": {**asdict(version.params), "stop": list(version.params.stop)},
    }
