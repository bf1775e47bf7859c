"""Fine-tune workbench: uploads added in one click, runs side by side, presets, true status."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.models.pick import OTHER
from components.state import Keys
from lifecycle.evaluation.datasets import Example
from lifecycle.evaluation.runs import RUN as EVAL_RUN
from lifecycle.evaluation.runs import Candidate, EvalRun
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.runs import RunStatus, append_jsonl, create_run, write_status
from lifecycle.models import GenParams
from lifecycle.prompting import PromptSpec

from .helpers import button, goto, rerun, texts

PAGE = "app_pages/finetune.py"
CSV = "question,answer\n" + "".join(f"what is {i} ?,it is {i} .\n" for i in range(12))
JSONL = "".join(
    json.dumps({"prompt": f"alice: hi bob ! {i}", "completion": "the capital is paris ."}) + "\n"
    for i in range(12)
)
EXAMPLES = [Example(str(i), f"alice: hi bob ! {i}", "hi .") for i in range(8)]


@pytest.fixture(autouse=True)
def hub_off(monkeypatch):
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)


def on_tiny(make_app, tiny_causal) -> AppTest:
    """The page with the tiny model as the base (never the slow embedded default)."""
    at = make_app()
    at.session_state[Keys.FT_MODEL] = OTHER
    at.session_state[Keys.FT_MODEL_OTHER] = str(tiny_causal)
    at.session_state[Keys.FT_SET + "max_len"] = 2048
    at.session_state[Keys.FT_SET + "batch"] = 4
    return goto(at, PAGE)


def test_uploaded_sets_are_added_and_become_the_training_data(
    make_app, project, store, tiny_causal
):
    store.put_record(project.id, "scope", {"primary_task": "information_retrieval"})
    at = on_tiny(make_app, tiny_causal)
    # A CSV, then a JSONL in the same session: each starts from its own guessed mapping.
    for name, raw, inputs, output in (
        ("qa.csv", CSV, ["question"], "answer"),
        ("chat.jsonl", JSONL, ["prompt"], "completion"),
    ):
        uploader = at.file_uploader(key=Keys.FT_UPLOAD)
        at = rerun(uploader.set_value((name, raw.encode(), "text/plain")))
        # The task the project was scoped to, not the first in the list.
        assert at.selectbox(key=Keys.FT_UP + "task").value == "information_retrieval"
        assert at.multiselect(key=Keys.FT_UP + "in").value == inputs
        assert at.selectbox(key=Keys.FT_UP + "out").value == output
        at = rerun(button(at, "Add this training set").click())  # raised WidgetAlreadyInstantiated
        source = at.selectbox(key=Keys.FT_SOURCE)
        assert source.format_func(source.value) == f"Uploaded: {name}"
        rows = [m for m in at.metric if m.label == "Rows"]
        assert rows and rows[0].value == "12"


def fake_run(store, project, status: RunStatus, metrics=(), **settings):
    """A run folder as a worker leaves it (no training needed to show it)."""
    config = FinetuneConfig(base_ref="tiny", task_id="summarization", **settings)
    run = create_run(store, project.id, config, EXAMPLES[:6], EXAMPLES[6:], {"name": "tiny"})
    status.created_at, status.total_steps = status.created_at or run.status.created_at, 8
    write_status(run.folder, status)
    for row in metrics:
        append_jsonl(run.folder / "metrics.jsonl", row)
    return run


def curve(lr: float) -> list[dict]:
    """Losses at every step and the validation metric at 0, 4 and 8."""
    rows = [{"step": s, "loss": 3 - s * lr * 100} for s in range(1, 9)]
    rows += [{"step": s, "eval_loss": 3 - s * lr * 90} for s in (4, 8)]
    return rows + [{"step": s, "val_metric": "rougeL", "val_score": s / 20} for s in (0, 4, 8)]


def test_runs_side_by_side_and_presets(make_app, project, store, tiny_causal):
    done = dict(state="completed", step=8, attempts=1)
    a = fake_run(store, project, RunStatus(**done), curve(0.001), learning_rate=1e-3)
    b = fake_run(store, project, RunStatus(**done), curve(0.002), learning_rate=2e-3, lora_r=8)
    candidate = Candidate("Tuned", a.ref, PromptSpec(), GenParams())
    scored = EvalRun("e1", candidate, "dialogue test", "h", "summarization", ("rouge",), 20)
    scored.scores, scored.status = {"rougeL": 0.42}, "done"
    store.put_record(project.id, EVAL_RUN, scored.to_dict(), key="e1")

    at = on_tiny(make_app, tiny_causal)
    assert set(at.multiselect(key=Keys.FT_COMPARE).value) == {a.id, b.id}
    diff = [d.value for d in at.dataframe if "setting" in d.value.columns][0]
    assert set(diff["setting"]) == {"learning_rate", "lora_r"}
    assert list(diff.loc[diff["setting"] == "lora_r", a.id]) == ["16"]
    scores = [d.value for d in at.dataframe if "rougeL" in d.value.columns][0]
    assert list(scores["run"]) == [a.id] and list(scores["rougeL"]) == [0.42]
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # the run's loss and metric, and the comparison's two

    # Save the first run's settings as a preset, then fill the New run form from it.
    at.selectbox(key=Keys.FT_RUN).set_value(a.id).run()
    at = rerun(at.text_input(key=f"{Keys.FT_PRESET_NAME}{a.id}").input("Careful LoRA"))
    at = rerun(button(at, "Save as preset").click())
    at = rerun(at.number_input(key=Keys.FT_SET + "lr_lora").set_value(0.0005))
    assert at.selectbox(key=Keys.FT_PRESET).options[0] == "Preset: Careful LoRA"
    at = rerun(at.selectbox(key=Keys.FT_PRESET).set_value("preset:careful-lora"))
    at = rerun(button(at, "Fill the form").click())
    assert at.number_input(key=Keys.FT_SET + "lr_lora").value == pytest.approx(1e-3)
    assert at.number_input(key=Keys.FT_SET + "r").value == 16
    at = rerun(at.selectbox(key=Keys.FT_PRESET).set_value(f"run:{b.id}"))
    at = rerun(button(at, "Fill the form").click())
    assert at.number_input(key=Keys.FT_SET + "r").value == 8


def test_what_a_stopped_or_failed_run_shows(make_app, project, store, tiny_causal):
    log = "Traceback (most recent call last):\n  File 'x.py', line 1\nMemoryError"
    failed = RunStatus(state="failed", step=3, attempts=1, error="MemoryError: out", log=log)
    broken = fake_run(store, project, failed)
    note = "Force-stopped by you at step 5, without saving a checkpoint. A resume starts ..."
    stopped = fake_run(store, project, RunStatus(state="stopped", step=5, attempts=1, note=note))
    at = on_tiny(make_app, tiny_causal)
    at = rerun(at.selectbox(key=Keys.FT_RUN).set_value(stopped.id))
    assert note in texts(at.info)
    assert "killed or out of memory" not in " ".join(texts(at.error))
    assert "No checkpoint yet: a resume starts from the beginning and redoes 5 steps." in texts(
        at.caption
    )
    at = rerun(at.selectbox(key=Keys.FT_RUN).set_value(broken.id))
    assert "MemoryError: out" in texts(at.error)
    assert log in [c.value for c in at.code]  # as written, its line breaks kept
    table = [d.value for d in at.dataframe if "run" in d.value.columns][0]
    assert set(table["status"]) == {"failed", "stopped"}


def _live_script(run_id: str, project_id: str) -> None:
    from components.finetune.jobs import _live

    _live(run_id, "stopped", project_id)


def test_the_registry_refreshes_inside_the_live_view(home, project, store):
    run = fake_run(store, project, RunStatus(state="stopped", step=2, attempts=1))
    at = AppTest.from_function(_live_script, args=(run.id, project.id), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe if "run" in d.value.columns]
    assert tables and list(tables[0]["run"]) == [run.id]  # drawn by the refreshing fragment
