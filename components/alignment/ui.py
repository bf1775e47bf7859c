"""Align page, collecting preferences: the task, the input, two blind completions, the verdict."""

from __future__ import annotations

import secrets

import streamlit as st

from components.models.load import load_ui
from components.models.pick import pick_model, shipped_set_for
from components.project import flash
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error, show_untrusted
from lifecycle.alignment.preferences import (
    Pair,
    PreferenceError,
    Side,
    make_pair,
    save_preference,
    task_messages,
)
from lifecycle.evaluation.datasets import load_shipped, shipped_index
from lifecycle.models import GenParams
from lifecycle.models.generation import GenerationError
from lifecycle.tasks import load_tasks
from lifecycle.text import md_escape

TYPED = "typed"
PROMPTS_SHOWN = 30  # shipped prompts offered in the picker
SIDE_DEFAULTS = {  # A greedy, B sampled: different enough that a verdict means something
    "a": {"do_sample": False, "temperature": 0.7, "seed": 0},
    "b": {"do_sample": True, "temperature": 1.0, "seed": 1},
}
VERDICTS = {"a": "A better", "b": "B better", "tie": "tie", "both_bad": "both bad"}


def task_ui(primary: str) -> str:
    """The task whose prompt kit frames the prompts (the scope's primary task by default, else
    the first with a shipped set)."""
    tasks = load_tasks()
    if st.session_state.get(Keys.ALIGN_TASK) not in tasks:
        shipped = [d["task"] for d in shipped_index() if d["task"] in tasks]  # has prompts
        st.session_state[Keys.ALIGN_TASK] = primary if primary in tasks else shipped[0]
    return st.selectbox(
        "Task", list(tasks), key=Keys.ALIGN_TASK, format_func=lambda t: tasks[t].name
    )


def prompt_choices(task_id: str) -> list[str]:
    """Inputs to judge: the task's shipped training split (the test split stays unseen), or its
    example inputs when no set ships for it."""
    set_id = shipped_set_for(task_id)
    if set_id:
        return [e.input for e in load_shipped(set_id, "train").examples[:PROMPTS_SHOWN]]
    return list(load_tasks()[task_id].example_inputs)


def prompt_ui(task_id: str) -> str:
    """A shipped input of the task or one typed by the user."""
    inputs = prompt_choices(task_id)
    options = [*range(len(inputs)), TYPED]
    if st.session_state.get(Keys.ALIGN_PROMPT) not in options:
        st.session_state[Keys.ALIGN_PROMPT] = options[0]
    pick = st.selectbox(
        "Input",
        options,
        key=Keys.ALIGN_PROMPT,
        format_func=lambda i: "Type my own" if i == TYPED else short(inputs[i], 90),
    )
    if pick == TYPED:
        return st.text_area("Your input", key=Keys.ALIGN_PROMPT_TEXT, height=120).strip()
    st.code(inputs[pick], language=None, wrap_lines=True)
    return inputs[pick]


def short(text: str, n: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def side_ui(side: str, project_id: str) -> tuple[str, GenParams]:
    """One side's model and decoding settings."""
    k = f"{Keys.ALIGN_SIDE}{side}_"
    for name, value in SIDE_DEFAULTS[side].items():
        st.session_state.setdefault(k + name, value)
    ref = pick_model(f"Model {side.upper()}", k + "model", project_id, serving=True, gguf=True)
    sample = st.toggle("Sampling", key=k + "do_sample")
    temperature = st.slider("Temperature", 0.1, 2.0, key=k + "temperature", disabled=not sample)
    seed = st.number_input("Seed", 0, 2**31 - 1, key=k + "seed", disabled=not sample)
    tokens = int(st.session_state.get(Keys.ALIGN_MAX_TOKENS, 64))
    if not sample:  # greedy ignores temperature and seed: two greedy sides are the same settings
        return ref, GenParams(tokens)
    return ref, GenParams(tokens, True, float(temperature), seed=int(seed))


def side_label(side: Side) -> str:
    """'embedded · sampled T=1.0 seed 1' (revealed after the verdict, never before)."""
    p = side.params or {}
    how = f"sampled T={p.get('temperature')} seed {p.get('seed')}" if p.get("do_sample") else ""
    return f"{side.model_ref or '?'} · {how or 'greedy'}"


def pair_ui(project_id: str, task_id: str, text: str) -> None:
    """Settings of both sides, the Generate button and the blind pair with its verdict buttons."""
    st.session_state.setdefault(Keys.ALIGN_MAX_TOKENS, 64)
    st.columns(3)[0].number_input(
        "Max new tokens (both sides)", 8, 512, key=Keys.ALIGN_MAX_TOKENS, step=8
    )
    left, right = st.columns(2)
    with left:
        ref_a, params_a = side_ui("a", project_id)
    with right:
        ref_b, params_b = side_ui("b", project_id)
    if st.button(
        "Generate a blind pair",
        type="primary",
        icon=":material/compare_arrows:",
        disabled=not (text and ref_a and ref_b),
    ):
        _generate(project_id, task_id, text, (ref_a, params_a), (ref_b, params_b))
    pending = st.session_state.get(Keys.ALIGN_PAIR) or {}
    if pending.get("project") == project_id:
        verdict_ui(project_id, pending["pair"])


def _generate(project_id: str, task_id: str, text: str, side_a: tuple, side_b: tuple) -> None:
    lm_a = load_ui(side_a[0])
    lm_b = lm_a if side_b[0] == side_a[0] else load_ui(side_b[0])
    if lm_a is None or lm_b is None:
        return
    messages = task_messages(task_id, text)
    try:
        with st.spinner("Writing two completions..."):
            pair = make_pair(
                lm_a, lm_b, messages, side_a[1], side_b[1], secrets.randbits(31), text, task_id
            )
    except (PreferenceError, GenerationError) as err:
        show_error(err)
        return
    st.session_state[Keys.ALIGN_PAIR] = {"project": project_id, "pair": pair}


def verdict_ui(project_id: str, pair: Pair) -> None:
    """The two completions in a random order, unlabelled, and the four verdicts."""
    st.caption("Which completion is better? The sides are shown in a random order.")
    cols = st.columns(2)
    for i, (col, text) in enumerate(zip(cols, pair.shown), start=1):
        with col.container(border=True):
            st.markdown(f"**Completion {i}**")
            show_untrusted(text, empty="_(empty)_")
    if pair.identical:
        st.warning("Both completions are the same text: only a tie or both bad makes sense.")
    st.text_input("Reason (optional)", key=Keys.ALIGN_REASON, max_chars=500)
    picks = (("first", "1 is better"), ("second", "2 is better"), ("tie", "Tie"))
    picks += (("both_bad", "Both bad"),)
    for col, (pick, label) in zip(st.columns(4), picks):
        col.button(
            label,
            key=Keys.ALIGN_JUDGE + pick,
            disabled=pair.identical and pick in ("first", "second"),
            on_click=_judge,
            args=(project_id, pair, pick),
            width="stretch",
        )


def _judge(project_id: str, pair: Pair, pick: str) -> None:
    pref = save_preference(
        get_store(), project_id, pair.judge(pick, st.session_state.get(Keys.ALIGN_REASON, ""))
    )
    st.session_state[Keys.ALIGN_PAIR] = None
    st.session_state[Keys.ALIGN_REASON] = ""
    flash(
        f"Saved ({VERDICTS[pref.choice]}). A was {md_escape(side_label(pref.a))}; "
        f"B was {md_escape(side_label(pref.b))}."
    )
