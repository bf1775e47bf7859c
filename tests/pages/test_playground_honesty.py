"""Issue 16 on the playground: truncation, the queue, stale figures, the picker, the knobs."""

from __future__ import annotations

import json
import threading

import pytest

from components.models.pick import OTHER
from components.state import Keys
from lifecycle.models import GenParams
from lifecycle.models.generation import MAX_NEW_TOKENS
from lifecycle.prompting import PromptSpec
from lifecycle.tasks import load_tasks
from lifecycle.versions import list_runs, save_version
from tests.fake_model import install

from .helpers import goto, rerun, texts

PAGE = "app_pages/playground.py"
TASK = "summarization"
LONG = " ".join(f"turn{i}: hello again" for i in range(400))


@pytest.fixture
def fake():
    return install()


@pytest.fixture
def at(make_app, project, store, fake):
    store.put_record(project.id, "scope", {"primary_task": TASK})
    return goto(make_app(), PAGE)


def use_fake(at):
    at = rerun(at.selectbox(key=Keys.PLAY_MODEL).select(OTHER))
    at.text_input(key=Keys.PLAY_MODEL_OTHER).input("fake:model")
    return rerun(at.number_input(key=Keys.PLAY_PARAM + "max_new_tokens").set_value(8))


def press_run(at):
    [go] = [b for b in at.button if b.label == "Run"]
    return rerun(go.click())


def metric_lines(at) -> list[str]:
    return [c.value for c in at.caption if "prompt +" in c.value]


def test_truncation_cuts_the_input_and_shows_what_is_sent(at, store, project, fake):
    fake.context_window = 200  # the fake counts words as tokens
    at.text_area(key=Keys.PLAY_VAR + "input").set_value(LONG)
    at = rerun(at.checkbox(key=Keys.PLAY_PARAM + "truncate").check())
    at = press_run(use_fake(at))
    assert not at.error, texts(at.error)
    kit = PromptSpec.for_task(load_tasks()[TASK])
    system, user = fake.prompts[-1]
    assert system["content"] == kit.system  # the system message and the instruction stay
    assert user["content"].startswith(f"{kit.instruction}\n\nDialogue:\nturn0: hello again")
    assert user["content"].endswith("[…]\nSummary:")  # the template's cue stays
    [line] = metric_lines(at)
    assert "input tokens dropped to fit the window" in line
    shown = [c.value for c in at.code if "turn0" in c.value]
    assert shown and "[…]" in shown[-1] and "turn399" not in shown[-1]
    assert any("The input is cut to fit" in w.value for w in at.warning)
    [run] = list_runs(store, project.id)
    assert run["truncated_tokens"] > 0 and json.dumps(run["messages"]).count("turn399") == 0


def test_the_queue_wait_is_shown_and_the_waiting_line_goes(at, fake):
    at = use_fake(at)
    fake.lock.acquire()  # another tab's generation
    threading.Timer(1.5, fake.lock.release).start()
    at = press_run(at)
    [line] = metric_lines(at)
    assert "waiting for another tab" in line
    assert not [c for c in at.caption if "Waiting for another tab" in c.value]
    assert not [c for c in at.info if "Waiting" in c.value]


def test_a_new_error_does_not_keep_the_last_runs_figures(at, fake):
    at = press_run(use_fake(at))
    assert metric_lines(at)
    at.text_input(key=Keys.PLAY_MODEL_OTHER).input("nobody/nothing")
    at = press_run(rerun(at))
    assert at.error and not metric_lines(at)


def test_a_version_made_on_llama_cpp_loads_onto_that_option(at, store, project):
    pytest.importorskip("llama_cpp")
    spec = PromptSpec.for_task(load_tasks()[TASK])
    save_version(store, project.id, "fast", TASK, spec, GenParams(), "llamacpp:embedded")
    at = rerun(at)
    [load] = [b for b in at.button if b.label == "Load into the editor"]
    at = rerun(load.click())
    assert at.selectbox(key=Keys.PLAY_MODEL).value == "llamacpp:embedded"  # not "Another model"
    assert Keys.PLAY_MODEL_OTHER not in [t.key for t in at.text_input]


def test_the_picker_has_no_empty_project_model_and_the_token_range_matches(at):
    picker = at.selectbox(key=Keys.PLAY_MODEL)
    assert "" not in picker.options and not any(o.endswith(": ") for o in picker.options)
    tokens = at.number_input(key=Keys.PLAY_PARAM + "max_new_tokens")
    assert (tokens.min, tokens.max) == (1, MAX_NEW_TOKENS)
