"""Playground page: scoped task, shots, streamed runs, errors, versions, compare.

Runs use the fake model (queued answers) unless real weights are the point: the exact text a
tokenizer's template renders, seeded sampling, a real context window, loading errors.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.models import load_model
from lifecycle.models.generation import count_tokens
from lifecycle.prompting import PromptSpec, build_messages
from lifecycle.tasks import load_tasks
from lifecycle.versions import list_runs, list_versions
from tests.fake_model import install
from tests.tiny_models import build_causal

from .helpers import goto, rerun, texts

PAGE = "app_pages/playground.py"
TASK = "summarization"
MAX_TOKENS = 8  # a few tokens are enough to test the page
FAKE = "fake:model"
ANSWER = "Alice and Bob meet for lunch at noon to plan the review"  # 12 words: cut at 8
CAPTION = re.compile(r"^[\d,]+ prompt \+ [\d,]+ completion tokens")
LONG_INPUT = "alice: hi bob ! bob: hello alice , lunch at noon ? " * 12


@pytest.fixture(autouse=True)
def hub_off(monkeypatch):
    """The hub stays off whatever the developer's shell says."""
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)


@pytest.fixture
def at(make_app, project, store):
    """A session on the playground of a project scoped to summarization."""
    store.put_record(project.id, "scope", {"primary_task": TASK})
    return goto(make_app(), PAGE)


@pytest.fixture
def fake():
    return install()


@pytest.fixture(scope="module")
def small_window(tmp_path_factory):
    """A tiny causal model whose context window is only 64 tokens."""
    return build_causal(tmp_path_factory.mktemp("tiny-window-64"), window=64)


@pytest.fixture
def pickle_only(tmp_path, tiny_causal):
    """A folder with a config and only a (pickle) pytorch_model.bin."""
    folder = tmp_path / "pickle-only"
    folder.mkdir()
    shutil.copy(tiny_causal / "config.json", folder / "config.json")
    (folder / "pytorch_model.bin").write_bytes(b"")
    return folder


def use_model(at, ref, max_tokens: int = MAX_TOKENS):
    """Pick "Another model", type its id or folder, and keep answers short."""
    at = rerun(at.selectbox(key=Keys.PLAY_MODEL).select(OTHER))
    at.text_input(key=Keys.PLAY_MODEL_OTHER).input(str(ref))
    return rerun(at.number_input(key=Keys.PLAY_PARAM + "max_new_tokens").set_value(max_tokens))


def run_button(at):
    [found] = [b for b in at.button if b.label == "Run"]
    return found


def press_run(at):
    return rerun(run_button(at).click())


def answers(at) -> list[str]:
    """The text of every assistant chat message on the page."""
    return ["".join(m.value for m in c.markdown) for c in at.chat_message if c.name == "assistant"]


def run_captions(at) -> list[str]:
    return [c.value for c in at.caption if CAPTION.match(c.value)]


def sent(at) -> list[dict]:
    """The chat messages shown under "What is sent" (before a model is loaded)."""
    [shown] = at.json
    return json.loads(shown.value)


def errors(at) -> str:
    return "\n".join(texts(at.error))


def test_the_page_starts_from_the_scoped_task(at, store, project):
    task = load_tasks()[TASK]
    assert texts(at.title) == ["3 · Adapt: prompt playground"]
    assert at.selectbox(key=Keys.PLAY_TASK).value == TASK
    assert at.text_area(key=Keys.PLAY_TEMPLATE).value == task.prompt.template
    assert at.text_area(key=Keys.PLAY_SYSTEM).value == task.prompt.system
    assert at.text_area(key=Keys.PLAY_VAR + "input").value == task.example_inputs[0]
    assert at.button_group(key=Keys.PLAY_SHOTS).value == 0
    assert at.selectbox(key=Keys.PLAY_MODEL).value.startswith("embedded:")
    assert not at.chat_message and not run_captions(at)  # nothing runs before Run is pressed
    messages = sent(at)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert task.example_inputs[0] in messages[-1]["content"]
    assert list_runs(store, project.id) == []
    # Another task loads its own prompt kit into the editor.
    at = rerun(at.selectbox(key=Keys.PLAY_TASK).select("translation"))
    translation = load_tasks()["translation"]
    assert at.text_area(key=Keys.PLAY_TEMPLATE).value == translation.prompt.template
    assert at.text_area(key=Keys.PLAY_VAR + "input").value == translation.example_inputs[0]


def test_opening_the_playground_writes_nothing(at, store, project):
    assert store.get_record(project.id, "playground") is None


def test_shots_add_demonstrations_to_what_is_sent(at):
    task = load_tasks()[TASK]
    at = rerun(at.button_group(key=Keys.PLAY_SHOTS).set_value(3))
    messages = sent(at)
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    spec = PromptSpec.for_task(task, shots=3)
    assert messages == build_messages(spec, {"input": task.example_inputs[0]})
    assert messages[2]["content"] == task.prompt.examples[0].output
    at = rerun(at.button_group(key=Keys.PLAY_SHOTS).set_value(1))
    assert len(sent(at)) == 4


def test_run_streams_an_answer_with_token_counts_and_keeps_it(at, store, project, fake):
    fake.enqueue(ANSWER)
    at = press_run(use_model(at, FAKE))
    assert not at.error, errors(at)
    [answer] = answers(at)
    assert answer == " ".join(ANSWER.split()[:MAX_TOKENS])  # cut at max new tokens
    [caption] = run_captions(at)
    assert f"+ {MAX_TOKENS} completion tokens" in caption and "ended by length" in caption
    assert any("window 4,096 tokens" in c.value for c in at.caption)
    task = load_tasks()[TASK]
    spec = PromptSpec.for_task(task)
    assert fake.prompts == [build_messages(spec, {"input": task.example_inputs[0]})]
    [run] = list_runs(store, project.id)
    assert run["label"] == "playground" and run["model"] == FAKE
    assert run["output"] == answer and run["completion_tokens"] == MAX_TOKENS
    assert run["task"] == TASK and run["shots"] == 0
    # The answer stays on the page after an unrelated rerun, which generates nothing.
    at = rerun(at.text_area(key=Keys.PLAY_SYSTEM).input("Be brief."))
    assert answers(at) == [answer] and len(fake.prompts) == 1


def test_once_loaded_what_is_sent_is_the_models_own_text(at, tiny_causal):
    """The chat template of the model's tokenizer, as the model reads it."""
    at = press_run(use_model(at, tiny_causal))
    assert not at.error, errors(at)
    assert any("window 2,048 tokens" in c.value for c in at.caption)
    assert any("<|im_start|>assistant" in c.value for c in at.code)


def test_no_stop_button_is_left_after_a_finished_run(at, fake):
    at = press_run(use_model(at, FAKE))
    assert answers(at)
    assert "Stop" not in [b.label for b in at.button]


def test_the_same_seed_repeats_a_sampled_answer(at, store, project, tiny_causal):
    at = use_model(at, tiny_causal, max_tokens=16)
    at = rerun(at.toggle(key=Keys.PLAY_PARAM + "do_sample").set_value(True))
    at.slider(key=Keys.PLAY_PARAM + "temperature").set_value(1.5)
    at = rerun(at.number_input(key=Keys.PLAY_PARAM + "seed").set_value(7))
    for _ in range(2):
        at = press_run(at)
    at = rerun(at.number_input(key=Keys.PLAY_PARAM + "seed").set_value(8))
    at = press_run(at)
    assert not at.error, errors(at)
    seed8, seed7b, seed7a = list_runs(store, project.id)  # newest first
    assert seed7a["do_sample"] and seed7a["seed"] == 7 and seed8["seed"] == 8
    assert seed7a["output"] == seed7b["output"]
    assert seed8["output"] != seed7a["output"]


def test_an_empty_input_is_a_message_and_run_is_disabled(at):
    at = rerun(at.text_area(key=Keys.PLAY_VAR + "input").input(""))
    assert "Fill in {input}" in errors(at)
    assert run_button(at).disabled
    assert not at.json  # nothing to send


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("play_param_temperature", 0.0, "Temperature 0 with sampling on"),
    ],
)
def test_impossible_settings_are_messages(at, store, project, fake, key, value, message):
    at = rerun(use_model(at, FAKE).toggle(key=Keys.PLAY_PARAM + "do_sample").set_value(True))
    widget = at.number_input(key=key) if key.endswith("tokens") else at.slider(key=key)
    at = press_run(rerun(widget.set_value(value)))
    assert message in errors(at)
    assert not any(answers(at))
    assert list_runs(store, project.id) == []


def test_an_unknown_hub_id_explains_the_hub_switch(at, store, project):
    at = press_run(use_model(at, "nobody/nothing"))
    assert "nobody/nothing" in errors(at) and "LIFECYCLE_ALLOW_HUB" in errors(at)
    assert list_runs(store, project.id) == []


def test_a_pickle_checkpoint_is_refused(at, pickle_only):
    at = press_run(use_model(at, pickle_only))
    assert "pickle" in errors(at)
    assert not answers(at)


def test_an_over_long_prompt_is_refused_then_truncated(at, store, project, small_window):
    at.text_area(key=Keys.PLAY_VAR + "input").set_value(LONG_INPUT)
    at = press_run(use_model(at, small_window))
    spec = PromptSpec.for_task(load_tasks()[TASK])
    used = count_tokens(load_model(str(small_window)), build_messages(spec, {"input": LONG_INPUT}))
    assert used > 64
    assert f"The prompt has {used:,} tokens" in errors(at)
    assert "context window of 64" in errors(at)
    assert list_runs(store, project.id) == []
    at = rerun(at.checkbox(key=Keys.PLAY_PARAM + "truncate").check())
    at = press_run(at)
    # Truncation cuts only the input: the kit's own instructions do not fit 64 tokens either.
    assert "Without its input the prompt still has" in errors(at)
    assert list_runs(store, project.id) == []
    at.text_area(key=Keys.PLAY_SYSTEM).input("be brief .")
    at.text_area(key=Keys.PLAY_INSTRUCTION).input("")
    at.text_area(key=Keys.PLAY_TEMPLATE).input("{input}")
    at = press_run(rerun(at))
    assert not at.error, errors(at)
    [caption] = run_captions(at)
    room = 64 - MAX_TOKENS
    sent_tokens = int(caption.split(" prompt + ")[0].replace(",", ""))
    assert room - 8 <= sent_tokens <= room  # the input is cut at a character, not a token
    short = PromptSpec("be brief .", "", "{input}")
    whole = count_tokens(
        load_model(str(small_window)), build_messages(short, {"input": LONG_INPUT})
    )
    assert f"{whole - sent_tokens} input tokens dropped" in caption
    [run] = list_runs(store, project.id)
    assert run["prompt_tokens"] == sent_tokens and run["truncate"] is True


def save_version(at, name: str):
    at.text_input(key=Keys.PLAY_VERSION_NAME).input(name)
    [submit] = [b for b in at.button if b.label.startswith("Save the current prompt")]
    return rerun(submit.click())


def diff_block(at) -> str:
    [block] = [c for c in at.code if c.language == "diff"]
    return block.value


def test_versions_save_diff_load_and_delete(at, store, project):
    at = save_version(at, "v1")
    assert any("Saved version “v1”" in t.value for t in at.toast), texts(at.toast)
    assert at.text_input(key=Keys.PLAY_VERSION_NAME).value == ""
    at = rerun(at.button_group(key=Keys.PLAY_SHOTS).set_value(3))
    at = save_version(at, "v2")
    saved = list_versions(store, project.id)
    assert [(v.name, v.prompt.shots, v.task_id) for v in saved] == [
        ("v1", 0, TASK),
        ("v2", 3, TASK),
    ]
    [table] = at.dataframe
    assert list(table.value["Name"]) == ["v1", "v2"]
    diff = diff_block(at).splitlines()  # from the oldest to the newest by default
    assert diff[:2] == ["--- v1", "+++ v2"]
    assert [line for line in diff[2:] if line[:1] in "+-"] == ["-shots: 0", "+shots: 3"]

    at = rerun(at.selectbox(key=Keys.PLAY_VERSION_PICK).select_index(0))
    [load] = [b for b in at.button if b.label == "Load into the editor"]
    at = rerun(load.click())
    assert at.button_group(key=Keys.PLAY_SHOTS).value == 0
    assert any("Loaded version “v1”" in t.value for t in at.toast)
    assert len(sent(at)) == 2

    [delete] = [b for b in at.button if b.label == "Delete"]
    assert delete.disabled  # a confirmation first
    at = rerun(at.checkbox(key=Keys.PLAY_VERSION_DELETE_OK).check())
    [delete] = [b for b in at.button if b.label == "Delete"]
    at = rerun(delete.click())
    assert [v.name for v in list_versions(store, project.id)] == ["v2"]
    assert list(at.dataframe[0].value["Name"]) == ["v2"]


def test_the_diff_follows_the_newest_version(at):
    at = save_version(at, "v1")
    assert diff_block(at) == "The two versions are identical."
    at = save_version(rerun(at.button_group(key=Keys.PLAY_SHOTS).set_value(3)), "v2")
    assert "+shots: 3" in diff_block(at)
    at = save_version(rerun(at.button_group(key=Keys.PLAY_SHOTS).set_value(5)), "v3")
    assert "-shots: 0" in diff_block(at) and "+shots: 5" in diff_block(at)


def test_a_duplicate_version_name_is_a_message(at, store, project):
    at = save_version(at, "v1")
    at = save_version(at, "V1")
    assert any("already exists" in t.value for t in at.toast), texts(at.toast)
    assert [v.name for v in list_versions(store, project.id)] == ["v1"]


def test_compare_runs_every_variant(at, store, project, fake):
    fake.enqueue("Variant A's answer.", "Variant B's answer.")
    at = rerun(at.number_input(key=Keys.PLAY_PARAM + "max_new_tokens").set_value(MAX_TOKENS))
    assert at.button_group(key=Keys.PLAY_VARIANTS).value == 2
    assert at.selectbox(key=Keys.PLAY_VARIANT + "0_current_shots").value == 0
    assert at.selectbox(key=Keys.PLAY_VARIANT + "1_current_shots").value == 3
    for i in range(2):
        at = rerun(at.selectbox(key=f"{Keys.PLAY_VARIANT}{i}_current_model").set_value(OTHER))
        at.text_input(key=other_key(f"{Keys.PLAY_VARIANT}{i}_current_model")).input(FAKE)
    at = rerun(at)
    [go] = [b for b in at.button if b.label == "Run all variants"]
    at = rerun(go.click())
    assert not at.error, errors(at)
    shown = answers(at)
    assert shown == ["Variant A's answer.", "Variant B's answer."]
    assert len(run_captions(at)) == 2
    runs = list_runs(store, project.id)
    assert sorted(r["label"] for r in runs) == ["compare A", "compare B"]
    by_label = {r["label"]: r for r in runs}
    assert by_label["compare A"]["shots"] == 0 and by_label["compare B"]["shots"] == 3
    assert by_label["compare B"]["prompt_tokens"] > by_label["compare A"]["prompt_tokens"]
    assert {r["output"] for r in runs} == set(shown)
    # The results stay on the page after a rerun, and the history lists both runs.
    at = rerun(at)
    assert answers(at) == shown
    history = at.dataframe[-1].value
    assert sorted(history["label"]) == ["compare A", "compare B"]


def test_the_playground_is_saved_for_the_next_session(at, make_app, store, project, fake):
    at = use_model(at, FAKE)
    at.text_area(key=Keys.PLAY_TEMPLATE).input("Chat:\n{input}\nIn short:")
    at = rerun(at.button_group(key=Keys.PLAY_SHOTS).set_value(2))
    record = store.get_record(project.id, "playground").data
    assert record["template"] == "Chat:\n{input}\nIn short:" and record["shots"] == 2
    assert record["model_other"] == FAKE
    assert record["params"]["max_new_tokens"] == MAX_TOKENS
    again = goto(make_app(), PAGE)
    assert again.selectbox(key=Keys.PLAY_MODEL).value == OTHER
    assert again.text_input(key=Keys.PLAY_MODEL_OTHER).value == FAKE
    assert again.number_input(key=Keys.PLAY_PARAM + "max_new_tokens").value == MAX_TOKENS
    assert again.text_area(key=Keys.PLAY_TEMPLATE).value == "Chat:\n{input}\nIn short:"
    assert again.button_group(key=Keys.PLAY_SHOTS).value == 2
    assert again.selectbox(key=Keys.PLAY_TASK).value == TASK
    assert len(sent(again)) == 1 + 2 * 2 + 1
