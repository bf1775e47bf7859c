"""Imported and hand-edited records: refused clearly on import, repaired or ignored when read."""

import json
import sqlite3

import pytest

from lifecycle import store as store_module
from lifecycle.evaluation.datasets import EvalSet, Example
from lifecycle.evaluation.runs import (
    PREDICTION,
    RUN,
    Candidate,
    continue_run,
    delete_eval_run,
    list_eval_runs,
    start_run,
)
from lifecycle.models import GenerationResult, GenParams
from lifecycle.overview import overview, stage_status
from lifecycle.prompting import PromptSpec
from lifecycle.report import markdown_report
from lifecycle.selection.advisor import AdvisorInput
from lifecycle.selection.memory import Workload
from lifecycle.store import SCHEMA_VERSION, Store, StoreError
from lifecycle.transfer import export_bytes, export_project, import_project
from lifecycle.typed import dataclass_from

CANDIDATE = {"label": "c", "model_ref": "m"}
EVAL_RUN = {
    "id": "r1",
    "candidate": CANDIDATE,
    "set_name": "s",
    "set_hash": "h",
    "task_id": "summarization",
    "total": 2,
    "metrics": ["rouge"],
    "scores": {"rougeL": 0.5},
}


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "db.sqlite")


def doc_bytes(records, **changes):
    doc = {
        "format": "lifecycle-project",
        "schema_version": SCHEMA_VERSION,
        "project": {"name": "X"},
        "records": records,
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def rec(kind, data, key="main"):
    return {"kind": kind, "key": key, "data": data}


def write_row(store, project_id, kind, text, key="main"):
    """Put raw text in the data column, as a person editing the SQLite file could."""
    with sqlite3.connect(store.path) as con:
        con.execute(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, 1, '2026-01-01')",
            (project_id, kind, key, text),
        )


def renders(store, project_id):
    """What Home and the report compute from a project (must never raise)."""
    ov = overview(store, project_id)
    stage_status(ov)
    return markdown_report(ov)


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([rec("scope", [1, 2])], r"Record 1 \(scope 'main'\).*data should be an object"),
        (
            [rec("plan", {}), rec("eval_run", {**EVAL_RUN, "candidate": None}, "r1")],
            r"Record 2 \(eval_run 'r1'\).*candidate should be an object, not null",
        ),
        (
            [rec("eval_run", {k: v for k, v in EVAL_RUN.items() if k != "candidate"}, "r1")],
            "data has no candidate",
        ),
        ([rec("eval_run", {**EVAL_RUN, "metrics": ["nope"]}, "r1")], "not one of the known"),
        ([rec("eval_run", {**EVAL_RUN, "total": 0}, "r1")], "total is 0, outside"),
        ([rec("scope", {"primary_task": "no-such-task"})], "primary_task"),
        ([rec("model", {"workload": [1]})], "workload should be an object"),
        ([rec("human_rating", {"rating": 9}, "r1:e1")], "outside 1-5"),
        ([rec("prompt_version", {"id": "v", "name": "n", "prompt": {"shots": 4}}, "v")], "shot"),
        ([rec("playground", {"values": {"input": 3}})], "values.input should be text"),
        ([rec("preference", {"id": "p", "choice": "maybe"}, "k")], "choice"),
        ([rec("mystery", {})], "kind this app does not know"),
        ([rec("plan", {}), rec("plan", {})], "appears twice"),
    ],
)
def test_bad_records_are_refused_naming_the_record(store, records, message):
    with pytest.raises(StoreError, match=message):
        import_project(store, doc_bytes(records))
    assert store.list_projects() == []


def test_deeply_nested_json_is_refused_with_a_message(store):
    raw = b'{"format": "lifecycle-project", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(StoreError, match="nests lists or objects too deeply"):
        import_project(store, raw)
    deep = json.loads("[" * 60 + "]" * 60)  # parses, but no record nests like this
    with pytest.raises(StoreError, match="nests too deeply"):
        import_project(store, doc_bytes([rec("plan", {"overrides": {"x": deep}})]))
    assert store.list_projects() == []


@pytest.mark.parametrize(
    "doc",
    [
        {"schema_version": SCHEMA_VERSION + 1, "project": {"name": "X"}, "records": []},
        {"format": "lifecycle-project-v2", "schema_version": SCHEMA_VERSION + 1},
    ],
)
def test_a_newer_export_names_its_version(store, doc):
    with pytest.raises(StoreError, match=f"newer version.*schema {SCHEMA_VERSION + 1}"):
        import_project(store, json.dumps(doc).encode())


def test_sizes_are_decimal_megabytes_as_the_uploader_shows_them(store):
    with pytest.raises(
        StoreError, match=r"This file is 28\.3 MB; a project export is at most 20 MB"
    ):
        import_project(store, b" " * 28_300_000)


def test_odd_but_valid_records_import_and_render(store):
    records = [
        rec("scope", {"primary_task": "summarization", "answers": {"timeline_weeks": 10**9}}),
        rec("plan", {"start_date": "9999-12-31", "overrides": {"adapt": float("nan")}}),
        rec("model", {"model_id": "x/y", "custom_params": 10**15, "workload": {"context": 0}}),
        rec("eval_run", {**EVAL_RUN, "extra": 1, "per_example": {}}, "r1"),
        rec("finetune_run", {"id": "f", "eval_loss": None, "dataset": {}}, "f"),
    ]
    project = import_project(store, doc_bytes(records))
    report = renders(store, project.id)
    assert "Memory: not estimated" in report  # a workload no run could have, said so
    assert overview(store, project.id).scope.answers.timeline_weeks == 12  # the default


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("scope", "[1, 2]"),
        ("scope", "{not json"),
        ("scope", "[" * 100_000 + "]" * 100_000),
        ("scope", '{"primary_task": "summarization", "secondary_tasks": "ner"}'),
        ("model", '{"model_id": 5, "advisor": {"gpu": "none", "utilisation": 1e308}}'),
        ("plan", '{"start_date": "9999-12-31"}'),
        ("eval_run", json.dumps({k: v for k, v in EVAL_RUN.items() if k != "candidate"})),
        ("eval_run", json.dumps({**EVAL_RUN, "metrics": "rouge"})),
        ("finetune_run", '{"id": "f", "dataset": [1], "eval_loss": "x"}'),
    ],
)
def test_hand_edited_rows_never_crash_the_readers(store, kind, text):
    project = store.create_project("P")
    write_row(
        store, project.id, kind, text, key="main" if kind in ("scope", "model", "plan") else "r1"
    )
    renders(store, project.id)
    assert json.loads(export_bytes(store, project.id))  # the export skips what it cannot read
    found = store.get_record(project.id, kind)
    assert found is None or isinstance(found.data, dict)


def test_a_bad_field_is_dropped_and_the_rest_of_the_record_kept(store):
    project = store.create_project("P")
    write_row(store, project.id, "scope", '{"primary_task": "summarization", "answers": 3}')
    assert store.get_record(project.id, "scope").data == {"primary_task": "summarization"}
    assert overview(store, project.id).scope.primary_task == "summarization"


def test_saving_a_record_of_the_wrong_shape_is_refused(store):
    project = store.create_project("P")
    with pytest.raises(StoreError, match="Cannot save the scope record"):
        store.put_record(project.id, "scope", [1])


def test_saved_values_are_clamped_to_what_the_inputs_accept():
    work = dataclass_from(Workload, {"context": -5, "batch": 10**9, "lora_rank": "8"})
    assert (work.context, work.batch, work.lora_rank) == (0, 4096, Workload().lora_rank)
    adv = dataclass_from(
        AdvisorInput, {"gpu": "nope", "utilisation": 7, "budget_usd": float("inf"), "gpus": 10**400}
    )
    assert adv.gpu == AdvisorInput().gpu and adv.utilisation == 1.0
    assert adv.budget_usd == AdvisorInput().budget_usd and adv.gpus == 100_000
    assert dataclass_from(Workload, [1, 2]) == Workload()


def test_a_busy_database_says_so_instead_of_a_rollback_error(store, monkeypatch):
    project = store.create_project("P")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.05)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="busy"):
            store.put_record(project.id, "plan", {})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.put_record(project.id, "plan", {})


def _evalset(n):
    examples = tuple(Example(f"e{i}", f"input {i}", f"output {i}") for i in range(n))
    return EvalSet("s", "summarization", ("f1",), examples)


def test_an_evaluation_run_appends_each_prediction_instead_of_rewriting_the_run(store):
    project = store.create_project("P")
    writes = []
    put = store.put_record

    def counting(project_id, kind, data, key="main", expected_revision=None):
        writes.append((kind, len(json.dumps(data))))
        return put(project_id, kind, data, key, expected_revision)

    store.put_record = counting
    cand = Candidate("c", "m", PromptSpec(), GenParams())
    evalset = _evalset(40)
    run = start_run(store, project.id, cand, evalset)
    result = GenerationResult("output", 3, 2, 0.01, 0.005, "eos")
    run = continue_run(store, project.id, run, evalset, lambda _: result)
    assert [k for k, _ in writes].count(RUN) == 2  # started and scored, not once per example
    assert [k for k, _ in writes].count(PREDICTION) == 40
    assert max(size for k, size in writes if k == PREDICTION) < 200
    saved = list_eval_runs(store, project.id)
    assert [r.to_dict() for r in saved] == [run.to_dict()] and saved[0].done == 40
    delete_eval_run(store, project.id, run.id)
    assert store.list_records(project.id) == []


def _examples(n, size=10):
    return [Example(f"e{i}", "x" * size + str(i), f"out {i}") for i in range(n)]


def test_uploaded_sets_live_in_files_and_travel_with_the_export(store, tmp_path):
    from lifecycle.uploads import EVAL_SET, TRAIN_SET, files_folder, list_sets, save_set

    project = store.create_project("P")
    save_set(store, project.id, EVAL_SET, "k1", "a.csv", "summarization", _examples(3), ("f1",))
    save_set(store, project.id, TRAIN_SET, "k2", "b.jsonl", "summarization", _examples(3))
    record = store.get_record(project.id, EVAL_SET, "k1")
    assert "examples" not in record.data and record.data["count"] == 3  # a pointer, not the set
    assert len(list(files_folder(store).iterdir())) == 1  # the same examples are kept once
    other = Store(tmp_path / "elsewhere" / "db.sqlite")
    copy = import_project(other, export_bytes(store, project.id))
    sets = list_sets(other, copy.id, EVAL_SET)
    assert sets["k1"].examples == tuple(_examples(3)) and sets["k1"].metrics == ("f1",)
    assert list_sets(other, copy.id, TRAIN_SET)["k2"].name == "b.jsonl"


def test_an_export_leaves_out_what_does_not_fit_and_says_so(store, tmp_path, monkeypatch):
    from lifecycle import transfer
    from lifecycle.uploads import EVAL_SET, list_sets, save_set

    monkeypatch.setattr(transfer, "MAX_IMPORT_BYTES", 60_000)
    project = store.create_project("P")
    for key, examples in (("small", _examples(2)), ("big", _examples(20, 5000))):
        save_set(store, project.id, EVAL_SET, key, f"{key}.csv", "summarization", examples, ())
    doc = export_project(store, project.id)
    raw = json.dumps(doc, indent=2, ensure_ascii=False).encode()
    assert len(raw) <= 60_000
    assert [g["name"] for g in doc["left_out"]] == ["big.csv"]
    assert "big.csv (too large)" in transfer.left_out_note(doc)
    other = Store(tmp_path / "elsewhere" / "db.sqlite")
    copy = import_project(other, raw)
    sets = list_sets(other, copy.id, EVAL_SET)
    assert len(sets["small"].examples) == 2 and not sets["small"].missing
    assert sets["big"].missing and sets["big"].examples == ()


def test_a_damaged_file_in_an_export_is_refused(store):
    from lifecycle.uploads import EVAL_SET, save_set

    project = store.create_project("P")
    save_set(store, project.id, EVAL_SET, "k", "a.csv", "summarization", _examples(2), ("f1",))
    doc = export_project(store, project.id)
    name = next(iter(doc["files"]))
    doc["files"][name] = doc["files"][name].replace("out 0", "out X")
    with pytest.raises(StoreError, match="damaged"):
        import_project(store, json.dumps(doc).encode())
    assert [p.name for p in store.list_projects()] == ["P"]


def test_sets_saved_inline_by_older_versions_still_read(store):
    from lifecycle.uploads import TRAIN_SET, list_sets

    project = store.create_project("P")
    rows = [{"id": "1", "input": "a", "output": "b"}]
    store.put_record(
        project.id, TRAIN_SET, {"name": "t", "task_id": "summarization", "examples": rows}, "k"
    )
    assert list_sets(store, project.id, TRAIN_SET)["k"].examples == (Example("1", "a", "b"),)


def test_files_no_project_uses_are_removed_once_old(store):
    import os

    from lifecycle.project_cleanup import delete_project_everywhere
    from lifecycle.uploads import EVAL_SET, files_folder, remove_unreferenced, save_set

    keep, drop = store.create_project("Keep"), store.create_project("Drop")
    save_set(store, keep.id, EVAL_SET, "k", "a.csv", "summarization", _examples(2), ("f1",))
    save_set(store, drop.id, EVAL_SET, "k", "a.csv", "summarization", _examples(2), ("f1",))
    save_set(store, drop.id, EVAL_SET, "j", "b.csv", "summarization", _examples(3), ("f1",))
    for path in files_folder(store).iterdir():
        os.utime(path, (0, 0))  # old enough: no upload in another tab is waiting for them
    delete_project_everywhere(store, drop.id)
    assert len(list(files_folder(store).iterdir())) == 1  # the file Keep shares stays
    store.delete_project(keep.id)
    other = store.create_project("New")
    save_set(store, other.id, EVAL_SET, "n", "c.csv", "summarization", _examples(4), ("f1",))
    assert remove_unreferenced(store) == 1  # Keep's old file goes; New's fresh one stays
    assert len(list(files_folder(store).iterdir())) == 1


def test_every_record_kind_the_app_writes_has_a_schema():
    from lifecycle.alignment.preferences import PREFERENCE
    from lifecycle.decisions import DECISION, RAG_QUALITY
    from lifecycle.deploy.measure import MEASUREMENT
    from lifecycle.evaluation.runs import RATING
    from lifecycle.finetune.runs import RUN as FINETUNE_RUN
    from lifecycle.schema import KINDS
    from lifecycle.uploads import EVAL_SET, TRAIN_SET
    from lifecycle.versions import RUN as PLAYGROUND_RUN
    from lifecycle.versions import VERSION

    written = {PREFERENCE, MEASUREMENT, RUN, PREDICTION, RATING, FINETUNE_RUN, EVAL_SET}
    written |= {TRAIN_SET, PLAYGROUND_RUN, VERSION, "scope", "model", "plan", "playground"}
    written |= {"evaluate"}  # the Evaluate page's slices
    written |= {DECISION, RAG_QUALITY}  # gates' decisions and the retrieval evidence
    assert written == set(KINDS)
