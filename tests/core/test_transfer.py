"""Export and import: exact round trip, and every bad file refused with a clear message."""

import json

import pytest

from lifecycle.store import MAX_IMPORT_BYTES, SCHEMA_VERSION, Store, StoreError
from lifecycle.transfer import export_bytes, export_project, import_project, write_json_atomic


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "db.sqlite")


def _demo(store):
    p = store.create_project("Demo 🚀 <b>")
    store.put_record(p.id, "scope", {"primary_task": "summarization", "answers": {"budget": "x"}})
    store.put_record(p.id, "plan", {"start_date": "2026-12-01", "overrides": {"adapt": 40}})
    return p


def _strip(doc):
    return {k: v for k, v in doc.items() if k != "exported_at"}


def test_round_trip_into_a_fresh_store_is_exact(store, tmp_path):
    p = _demo(store)
    first = export_project(store, p.id)
    other = Store(tmp_path / "other.sqlite")
    imported = import_project(other, export_bytes(store, p.id))
    assert imported.id == p.id and imported.name == p.name
    assert _strip(export_project(other, imported.id)) == _strip(first)


def test_import_beside_the_original_gets_a_new_id_and_name(store):
    p = _demo(store)
    copy = import_project(store, export_bytes(store, p.id))
    assert copy.id != p.id
    assert copy.name == f"{p.name} (2)"
    assert store.get_record(copy.id, "plan").data["overrides"] == {"adapt": 40}


def _doc(**changes):
    doc = {
        "format": "lifecycle-project",
        "schema_version": SCHEMA_VERSION,
        "project": {"name": "X"},
        "records": [],
    }
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "not a Lifecycle project export"),
        (b'{"hello": "world"}', "not a Lifecycle project export"),
        (_doc(schema_version=SCHEMA_VERSION + 1), "newer version"),
        (_doc(schema_version="one"), "schema_version"),
        (_doc(project={"name": ""}), "name"),
        (_doc(records={"a": 1}), "list of records"),
        (_doc(records=[{"kind": "Bad Kind!", "key": "main", "data": {}}]), "valid kind"),
        (_doc(records=[{"kind": "scope", "key": "main"}]), "incomplete"),
    ],
)
def test_bad_files_are_refused_clearly_and_create_nothing(store, raw, message):
    with pytest.raises(StoreError, match=message):
        import_project(store, raw)
    assert store.list_projects() == []


def test_huge_file_is_refused_before_parsing(store):
    with pytest.raises(StoreError, match="at most"):
        import_project(store, b" " * (MAX_IMPORT_BYTES + 1))


def test_atomic_json_write_replaces_whole_file(tmp_path):
    target = tmp_path / "out" / "plan.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"b": 2})
    assert json.loads(target.read_text()) == {"b": 2}
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]


def test_an_import_keeps_the_creation_time_and_ignores_a_bad_one(store, tmp_path):
    """A round trip was exact only when the second did not tick between export and import."""
    old = json.loads(_doc(project={"name": "Old", "created_at": "2020-01-02T03:04:05+00:00"}))
    assert import_project(store, json.dumps(old).encode()).created_at.startswith("2020-01-02")
    bad = json.loads(_doc(project={"name": "Bad", "created_at": "yesterday-ish"}))
    assert import_project(store, json.dumps(bad).encode()).created_at.startswith("20")
