"""In-context prompts from the task table; prompt versions and run history in the store."""

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.models import GenerationResult, GenParams
from lifecycle.prompting import SHOTS, PromptError, PromptSpec, build_messages, fill, variables
from lifecycle.store import Store, StoreError
from lifecycle.tasks import load_tasks
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


def test_variables_and_fill():
    assert variables("Hi {name}, {input} and {name}") == ["name", "input"]
    assert variables('JSON: {{"a": 1}} {input}') == ["input"]
    assert fill("{a}-{b}", {"a": "1", "b": "2"}) == "1-2"
    with pytest.raises(PromptError, match=r"Fill in \{b\}"):
        fill("{a}-{b}", {"a": "1", "b": "  "})
    with pytest.raises(PromptError, match="stray brace"):
        variables("broken {input")
    with pytest.raises(PromptError, match="not a valid variable"):
        variables("{0} {input}")


@pytest.mark.parametrize(
    "template",
    ["{input:>4000000000}", "{input!r}", "{input!s:^9}", "{input.__class__}", "{input[0]}", "{}"],
)
def test_only_plain_placeholders_pass(template):
    """A format spec would allocate gigabytes on every render; attribute access leaks objects."""
    with pytest.raises(PromptError):
        variables(template)
    with pytest.raises(PromptError):
        fill(template, {"input": "x"})


def test_values_are_inserted_as_they_are():
    assert fill("<{input}>", {"input": "{input} {0:>9} {{x}}"}) == "<{input} {0:>9} {{x}}>"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(min_size=1, max_size=20))
def test_any_template_fills_or_says_why(template, value):
    """A clear PromptError or a result no longer than the template's text plus its values."""
    try:
        names = variables(template)
        out = fill(template, dict.fromkeys(names, value))
    except PromptError:
        return
    assert len(out) <= len(template) + template.count("{") * len(value)


@pytest.mark.parametrize("shots", SHOTS)
def test_shots_become_past_turns(shots):
    task = load_tasks()["summarization"]
    messages = build_messages(PromptSpec.for_task(task, shots), {"input": "A: hi\nB: bye"})
    assert messages[0] == {"role": "system", "content": task.prompt.system}
    assert len(messages) == 2 + 2 * shots
    assert [m["role"] for m in messages[1:]] == ["user", "assistant"] * shots + ["user"]
    for i, example in enumerate(task.prompt.examples[:shots]):
        assert example.input in messages[1 + 2 * i]["content"]
        assert messages[2 + 2 * i]["content"] == example.output
    assert messages[-1]["content"].endswith("A: hi\nB: bye\nSummary:")
    assert messages[-1]["content"].startswith(task.prompt.instruction)


def test_a_system_message_is_always_sent_and_bad_shots_refused():
    spec = PromptSpec(system="  ", template="{input}")
    assert build_messages(spec, {"input": "x"})[0]["content"] == "You are a helpful assistant."
    with pytest.raises(PromptError, match="examples"):
        build_messages(PromptSpec(shots=3), {"input": "x"})
    with pytest.raises(PromptError, match="0, 1, 2, 3 or 5"):
        build_messages(PromptSpec(shots=4), {"input": "x"})


def test_every_task_prompt_kit_builds_five_shot_prompts():
    for task in load_tasks().values():
        messages = build_messages(PromptSpec.for_task(task, 5), {"input": task.example_inputs[0]})
        assert len(messages) == 12, task.id


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "db.sqlite")


def test_versions_save_list_diff_delete(store):
    p = store.create_project("P")
    kit = PromptSpec.for_task(load_tasks()["ner"])
    a = save_version(store, p.id, "zero-shot", "ner", kit, GenParams(), "embedded:x")
    b = save_version(
        store,
        p.id,
        "three-shot",
        "ner",
        PromptSpec(**{**kit.__dict__, "shots": 3}),
        GenParams(do_sample=True, stop=("\n",)),
        "embedded:x",
    )
    assert [v.name for v in list_versions(store, p.id)] == ["zero-shot", "three-shot"]
    assert list_versions(store, p.id)[1] == b  # round trip through JSON, stop tuple included
    diff = diff_versions(a, b)
    assert "-shots: 0" in diff and "+shots: 3" in diff and "+do_sample: True" in diff
    assert diff_versions(a, a) == ""
    with pytest.raises(StoreError, match="already exists"):
        save_version(store, p.id, "ZERO-SHOT", "ner", kit, GenParams(), "m")
    with pytest.raises(StoreError, match="name"):
        save_version(store, p.id, "  ", "ner", kit, GenParams(), "m")
    delete_version(store, p.id, a.id)
    assert [v.name for v in list_versions(store, p.id)] == ["three-shot"]


def test_run_history_exports_as_csv_and_json(store):
    p = store.create_project("P")
    spec = PromptSpec(template="{input}")
    result = GenerationResult("Paris, of course", 12, 4, 0.5, 0.1, "eos")
    for label in ("first", "second"):
        record_run(store, p.id, label, "embedded:x", "chatbot", spec, GenParams(), [], result)
    runs = list_runs(store, p.id)
    assert [r["label"] for r in runs] == ["second", "first"]  # newest first
    rows = list(csv.DictReader(io.StringIO(runs_csv(runs))))
    assert rows[0]["output"] == "Paris, of course" and rows[0]["completion_tokens"] == "4"
    doc = json.loads(export_json(list_versions(store, p.id), runs))
    assert doc["versions"] == [] and len(doc["runs"]) == 2
