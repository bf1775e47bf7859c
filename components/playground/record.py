"""The playground's saved record: defaults, widgets <-> record, and a version loaded back."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from components.models.pick import OTHER, model_options
from components.playground.ui import KNOBS
from components.state import Keys
from lifecycle.models import EMBEDDED, GenParams
from lifecycle.models.generation import MAX_NEW_TOKENS
from lifecycle.prompting import SHOTS, PromptSpec
from lifecycle.serving import default_ref
from lifecycle.settings import load_settings
from lifecycle.tasks import Task, load_tasks
from lifecycle.typed import dataclass_from
from lifecycle.versions import PromptVersion


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
    other = str(data.get("model_other") or "")  # set only while "another model" is chosen
    values = {
        Keys.PLAY_MODEL: OTHER if other else data.get("model") or EMBEDDED,
        Keys.PLAY_MODEL_OTHER: other,
        Keys.PLAY_TASK: data["task"] if data.get("task") in tasks else next(iter(tasks)),
        Keys.PLAY_SHOTS: shots if shots in SHOTS else 0,
        Keys.PLAY_SYSTEM: str(data.get("system", "")),
        Keys.PLAY_INSTRUCTION: str(data.get("instruction", "")),
        Keys.PLAY_TEMPLATE: str(data.get("template", "")),
        Keys.PLAY_STOP_TEXT: "\n".join(p.stop),
    }
    clamp = {
        "max_new_tokens": (1, MAX_NEW_TOKENS),
        "temperature": (0.0, 2.0),
        "top_k": (0, 1000),
        "top_p": (0.0, 1.0),
        "repetition_penalty": (0.5, 2.0),
        "seed": (0, 2**31 - 1),
    }
    for name, value in asdict(p).items():
        if name in clamp:
            value = min(max(value, clamp[name][0]), clamp[name][1])
        if name in KNOBS:
            values[Keys.PLAY_PARAM + name] = value
    for name, value in (data.get("values") or {}).items():
        values[Keys.PLAY_VAR + str(name)] = str(value)
    return values


def version_record(version: PromptVersion, project_model: str) -> dict:
    """A playground record that reproduces a saved version."""
    offered = model_options(None, serving=True, runs=False)
    known = version.model_ref in {*offered, project_model} - {""}
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
