"""Property tests: any import is a clear StoreError or a project every reader can show."""

import json
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.alignment.preferences import list_preferences
from lifecycle.decision_records import list_decisions, proposals, summary_rows
from lifecycle.deploy.measure import load_measurements
from lifecycle.evaluation.runs import list_eval_runs, ratings
from lifecycle.overview import overview, stage_status
from lifecycle.report import markdown_report
from lifecycle.store import SCHEMA_VERSION, Store, StoreError
from lifecycle.transfer import export_bytes, import_project
from lifecycle.uploads import EVAL_SET, TRAIN_SET, list_sets
from lifecycle.versions import list_runs, list_versions, runs_csv

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
PROMPT = {"system": "s", "instruction": "i", "template": "{input}", "shots": 1, "examples": []}
EXAMPLE = {"id": "1", "input": "a", "output": "b"}
VALID = {  # one well-formed record of every kind the app writes
    ("scope", "main"): {"primary_task": "summarization", "secondary_tasks": ["ner"], "answers": {}},
    ("model", "main"): {"model_id": "x", "custom_params": 10**9, "workload": {}, "advisor": {}},
    ("plan", "main"): {"start_date": "2026-01-01", "overrides": {"adapt": 3}},
    ("playground", "main"): {"model": "m", "task": "summarization", "values": {"input": "x"}},
    ("prompt_version", "v"): {"id": "v", "name": "V", "prompt": PROMPT, "params": {}},
    ("playground_run", "t"): {"label": "l", "output": "o", "messages": [], "shots": 0},
    ("eval_run", "r"): {
        "id": "r",
        "candidate": {"label": "c", "model_ref": "m", "prompt": PROMPT},
        "set_name": "s",
        "set_hash": "h",
        "task_id": "summarization",
        "total": 2,
        "metrics": ["rouge", "f1"],
        "predictions": {"1": {"prediction": "p", "prompt_tokens": 3}},
        "scores": {"rougeL": 0.4, "f1": 0.2},
        "per_example": {"f1": {"1": 0.2}},
        "status": "partial",
    },
    ("eval_prediction", "r:2"): {"prediction": "q"},
    ("human_rating", "r:1"): {"rating": 4},
    ("eval_set", "k"): {"name": "n", "task_id": "summarization", "metrics": ["f1"], "examples": []},
    ("finetune_set", "k"): {"name": "n", "task_id": "summarization", "examples": [EXAMPLE]},
    ("finetune_run", "f"): {"id": "f", "state": "completed", "eval_loss": 0.5, "dataset": {}},
    ("preference", "p"): {"id": "p", "choice": "a", "a": {"text": "x"}, "messages": []},
    ("deploy_measurement", "d"): {"ref": "m", "reports": [{"quality": {"f1": 0.1}}]},
    ("rag_quality", "q"): {"collection": "c", "k": 3, "ranks": [1, 0, 2], "chunks": {}},
    ("decision", "adapt:x"): {
        "gate": "adapt",
        "proposed": "fine-tune",
        "chosen": "rag",
        "overridden": True,
        "reason": "r",
        "decided_at": "2026-01-01",
        "evidence": ["eval_run:r"],
    },
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    sorted({name for data in VALID.values() for name in data} | {"candidate", "rating"})
)


@st.composite
def mutated_records(draw):
    """A few valid records, some with a field replaced, removed or added."""
    picks = draw(st.lists(st.sampled_from(sorted(VALID)), min_size=1, max_size=5, unique=True))
    records = []
    for kind, key in picks:
        data = json.loads(json.dumps(VALID[kind, key]))
        for _ in range(draw(st.integers(0, 2))):
            action = draw(st.sampled_from(["set", "drop", "replace"]))
            if action == "set":
                data[draw(field_names)] = draw(json_values)
            elif action == "drop" and data:
                data.pop(draw(st.sampled_from(sorted(data))))
            elif action == "replace":
                data = draw(json_values)
                break
        records.append({"kind": kind, "key": key, "data": data})
    return records


def snapshot(store):
    """Every project and record, to compare before and after a refused import."""
    with sqlite3.connect(store.path) as con:
        return con.execute("SELECT * FROM projects").fetchall(), con.execute(
            "SELECT * FROM records"
        ).fetchall()


def read_everything(store, project_id):
    """What the pages compute from a project; none of it may raise."""
    ov = overview(store, project_id)
    stage_status(ov)
    markdown_report(ov)
    runs_csv(list_runs(store, project_id))
    list_versions(store, project_id)
    for run in list_eval_runs(store, project_id):
        ratings(store, project_id, run.id)
    list_preferences(store, project_id)
    load_measurements(store, project_id)
    list_sets(store, project_id, EVAL_SET)
    list_sets(store, project_id, TRAIN_SET)
    export_bytes(store, project_id)
    summary_rows(list_decisions(store, project_id))
    proposals(store, project_id)


def try_import(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "db.sqlite")
        store.create_project("Existing")
        before = snapshot(store)
        try:
            project = import_project(store, raw)
        except StoreError as err:
            assert str(err)
            assert snapshot(store) == before
            return
        read_everything(store, project.id)


@FUZZ
@given(json_values)
def test_any_json_document_is_refused_clearly(doc):
    try_import(json.dumps(doc).encode())


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes_are_refused_clearly(raw):
    try_import(raw)


@FUZZ
@given(mutated_records(), json_values)
def test_any_record_contents_import_and_render_or_are_refused(records, name):
    doc = {
        "format": "lifecycle-project",
        "schema_version": SCHEMA_VERSION,
        "project": {"name": name if isinstance(name, str) and name.strip() else "Fuzzed"},
        "records": records,
    }
    try_import(json.dumps(doc).encode())


@FUZZ
@given(st.sampled_from(sorted(VALID)), json_values)
def test_any_hand_edited_row_is_read_without_an_exception(kind_key, data):
    kind, key = kind_key
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "db.sqlite")
        project = store.create_project("P")
        for (k, kk), valid in VALID.items():
            store.put_record(project.id, k, valid, key=kk)
        with sqlite3.connect(store.path) as con:
            con.execute(
                "UPDATE records SET data = ? WHERE kind = ? AND key = ?",
                (json.dumps(data), kind, key),
            )
        read_everything(store, project.id)
