"""Project store: CRUD, revisions and conflicts, names, migrations."""

import sqlite3

import pytest

from lifecycle.store import MAX_NAME_LENGTH, SCHEMA_VERSION, ConflictError, Store, StoreError


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "db.sqlite")


def test_create_list_rename_delete(store):
    a = store.create_project("Alpha")
    b = store.create_project("Beta")
    assert {p.name for p in store.list_projects()} == {"Alpha", "Beta"}
    assert store.rename_project(a.id, "  Alpha   two ").name == "Alpha two"
    store.delete_project(b.id)
    assert [p.name for p in store.list_projects()] == ["Alpha two"]
    assert store.get_project(b.id) is None


def test_names_are_unique_ignoring_case(store):
    store.create_project("Alpha")
    with pytest.raises(StoreError, match="already exists"):
        store.create_project("ALPHA")
    assert store.free_name("alpha") == "alpha (2)"


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "x" * (MAX_NAME_LENGTH + 1)])
def test_bad_names_are_refused_with_a_message(store, bad):
    with pytest.raises(StoreError) as err:
        store.create_project(bad)
    assert "name" in str(err.value).lower() or "characters" in str(err.value)
    assert store.list_projects() == []


def test_markup_and_emoji_names_are_kept_as_typed(store):
    name = "<script>alert(1)</script> **bold** 🚀"
    assert store.create_project(name).name == name
    assert store.list_projects()[0].name == name


def test_control_characters_are_removed(store):
    assert store.create_project("a\x00b\x07c").name == "abc"


def test_records_revisions_and_conflicts(store):
    p = store.create_project("P")
    first = store.put_record(p.id, "scope", {"primary_task": "ner"}, expected_revision=0)
    assert first.revision == 1
    second = store.put_record(p.id, "scope", {"primary_task": "chatbot"}, expected_revision=1)
    assert second.revision == 2
    with pytest.raises(ConflictError, match="another tab"):  # a tab that still holds revision 1
        store.put_record(p.id, "scope", {"primary_task": "translation"}, expected_revision=1)
    assert store.get_record(p.id, "scope").data == {"primary_task": "chatbot"}


def test_duplicate_copies_records(store):
    p = store.create_project("Demo")
    store.put_record(p.id, "scope", {"primary_task": "ner"})
    copy = store.duplicate_project(p.id)
    assert copy.name == "Copy of Demo"
    assert store.get_record(copy.id, "scope").data == {"primary_task": "ner"}
    assert store.duplicate_project(p.id).name == "Copy of Demo (2)"


def test_deleting_a_project_deletes_its_records(store):
    p = store.create_project("Demo")
    store.put_record(p.id, "scope", {"x": 1})
    store.delete_project(p.id)
    with pytest.raises(StoreError, match="no longer exists"):
        store.put_record(p.id, "scope", {"x": 2})
    assert store.list_records(p.id) == []


def test_data_survives_reopening(tmp_path):
    path = tmp_path / "db.sqlite"
    p = Store(path).create_project("Kept")
    Store(path).put_record(p.id, "plan", {"start_date": "2026-01-01"})
    again = Store(path)
    assert again.get_project(p.id).name == "Kept"
    assert again.get_record(p.id, "plan").data == {"start_date": "2026-01-01"}


def test_fresh_database_is_migrated_to_the_current_schema(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    assert store.schema_version() == SCHEMA_VERSION
    Store(tmp_path / "db.sqlite")  # reopening applies nothing twice
    assert store.schema_version() == SCHEMA_VERSION


def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError, match="newer version"):
        Store(path)


def test_failed_write_leaves_nothing_half_done(store):
    p = store.create_project("P")
    with pytest.raises(TypeError):
        store.put_record(p.id, "scope", {"bad": object()})  # not JSON: refused before writing
    assert store.get_record(p.id, "scope") is None
