"""Home page: the stage map of the open project and project management."""

from __future__ import annotations

import json
import re

from components.state import Keys
from lifecycle.text import md_escape

from .helpers import button, goto, rerun, texts

STAGE_CARD = re.compile(r"^\*\*\d\. ")  # "**1. Define scope**" heads each stage card


def stage_cards(at) -> list[str]:
    return [m.value for m in at.markdown if STAGE_CARD.match(m.value)]


def create(at, name: str):
    at.text_input(key=Keys.HOME_NEW_NAME).input(name)
    return rerun(at.button(key=f"FormSubmitter:{Keys.HOME_NEW_FORM}-Create project").click())


def test_without_a_project_only_the_create_form_shows(make_app, store):
    at = make_app()
    assert texts(at.subheader) == ["Start a project"]
    assert at.text_input(key=Keys.HOME_NEW_NAME).value == ""
    assert stage_cards(at) == []
    assert not at.tabs
    assert "No project yet" in at.sidebar.caption[0].value
    assert store.list_projects() == []


def test_creating_a_project_opens_it_with_seven_stage_cards(make_app, store):
    at = create(make_app(), "Demo")
    assert "Project: Demo" in texts(at.subheader)
    cards = stage_cards(at)
    assert len(cards) == 7
    assert cards[0] == "**1. Define scope**" and cards[-1] == "**7. Infrastructure**"
    assert texts(at.toast) == ["Project “Demo” created and opened."]
    assert at.text_input(key=Keys.HOME_NEW_NAME).value == ""  # cleared for the next one
    [project] = store.list_projects()
    assert project.name == "Demo"
    assert at.sidebar.selectbox(key=Keys.SIDEBAR_PROJECT).value == project.id
    assert [t.label for t in at.tabs] == ["New", "This project", "Import"]


def test_an_empty_name_is_refused_with_a_message(make_app, store):
    at = create(make_app(), "   ")
    assert texts(at.toast) == ["Give the project a name."]
    assert texts(at.subheader) == ["Start a project"]
    assert store.list_projects() == []


def test_a_too_long_or_taken_name_is_refused(make_app, store):
    at = create(make_app(), "x" * 100)
    assert "at most 80 characters" in at.toast[0].value
    at = create(at, "Demo")
    at = create(at, "demo")  # names are unique without regard to case
    assert "already exists" in at.toast[0].value
    assert [p.name for p in store.list_projects()] == ["Demo"]


def test_a_name_with_markup_and_emoji_is_stored_and_shown_as_typed(make_app, store):
    name = "<b>x</b> 🚀"
    at = create(make_app(), name)
    assert [p.name for p in store.list_projects()] == [name]
    # the heading escapes the markup, so it shows the characters rather than bold text
    assert f"Project: {md_escape(name)}" in texts(at.subheader)
    assert "\\<b\\>x\\</b\\> 🚀" in at.subheader[0].value


def test_rename(make_app, store, project):
    at = make_app()
    assert at.text_input(key=Keys.HOME_RENAME).value == "Demo"
    at.text_input(key=Keys.HOME_RENAME).input("Support summaries")
    at = rerun(at.button(key=f"FormSubmitter:{Keys.HOME_RENAME_FORM}-Rename").click())
    assert "Project: Support summaries" in texts(at.subheader)
    assert texts(at.toast) == ["Renamed to “Support summaries”."]
    assert [(p.id, p.name) for p in store.list_projects()] == [(project.id, "Support summaries")]


def test_rename_to_nothing_keeps_the_old_name(make_app, store, project):
    at = make_app()
    at.text_input(key=Keys.HOME_RENAME).input("")
    at = rerun(at.button(key=f"FormSubmitter:{Keys.HOME_RENAME_FORM}-Rename").click())
    assert texts(at.toast) == ["Give the project a name."]
    assert [p.name for p in store.list_projects()] == ["Demo"]


def test_duplicate_copies_the_decisions_and_opens_the_copy(make_app, store, project):
    store.put_record(project.id, "scope", {"primary_task": "summarization"})
    at = rerun(button(make_app(), "Duplicate").click())
    assert "Project: Copy of Demo" in texts(at.subheader)
    assert texts(at.toast) == ["Duplicated as “Copy of Demo”, now open."]
    copy = next(p for p in store.list_projects() if p.name == "Copy of Demo")
    assert store.get_record(copy.id, "scope").data == {"primary_task": "summarization"}
    assert at.session_state[Keys.PROJECT_ID] == copy.id
    assert "Conversation Summarization" in [m.value for m in at.markdown]  # its stage card


def test_delete_needs_the_confirmation_checkbox(make_app, store, project):
    at = make_app()
    delete = button(at, "Delete project")
    assert delete.disabled
    assert not at.checkbox(key=Keys.HOME_DELETE_CONFIRM).value
    at = rerun(at.checkbox(key=Keys.HOME_DELETE_CONFIRM).check())
    delete = button(at, "Delete project")
    assert not delete.disabled
    assert store.list_projects() == [project]  # checking the box deletes nothing yet
    at = rerun(delete.click())
    assert store.list_projects() == []
    assert texts(at.toast) == ["Project “Demo” deleted."]
    assert texts(at.subheader) == ["Start a project"]


def test_the_sidebar_switches_the_open_project(make_app, store, project):
    other = store.create_project("Other")
    at = make_app()
    switcher = at.sidebar.selectbox(key=Keys.SIDEBAR_PROJECT)
    assert switcher.options == ["Demo", "Other"] or switcher.options == ["Other", "Demo"]
    for target in (other, project, other):
        at = rerun(at.sidebar.selectbox(key=Keys.SIDEBAR_PROJECT).select(target.id))
        assert f"Project: {target.name}" in texts(at.subheader)
        assert at.session_state[Keys.PROJECT_ID] == target.id
    assert {p.id for p in store.list_projects()} == {project.id, other.id}


def test_a_project_deleted_in_another_tab_is_noticed(make_app, store, project):
    at = make_app()
    assert "Project: Demo" in texts(at.subheader)
    store.delete_project(project.id)
    at = rerun(at)
    assert texts(at.subheader) == ["Start a project"]
    assert texts(at.toast) == ["The project you had open was deleted (maybe in another tab)."]
    assert at.session_state[Keys.PROJECT_ID] is None


def test_stage_cards_show_the_decisions_of_other_pages(make_app, store, project):
    at = make_app()
    shown = [m.value for m in at.markdown]
    assert shown.count("not started") == 7  # untouched: no "10 days planned", no "skipped"
    assert not [s for s in shown if "days planned" in s or s == "skipped"]
    at = goto(at, "app_pages/scope.py")
    at = rerun(at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    at = goto(at, "app_pages/home.py")
    assert "Conversation Summarization" in [m.value for m in at.markdown]


def write_row(store, project_id, kind, text, key="main"):
    """Raw text in the data column, as a person editing the SQLite file leaves it."""
    import sqlite3

    with sqlite3.connect(store.path) as con:
        con.execute(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, 1, '2026-01-01')",
            (project_id, kind, key, text),
        )


def test_a_project_with_broken_records_opens_and_can_be_deleted(make_app, store, project):
    write_row(store, project.id, "scope", "[1, 2]")
    write_row(store, project.id, "eval_run", '{"id": "r", "scores": {"f1": 1}}', key="r")
    write_row(store, project.id, "plan", '{"start_date": "9999-12-31", "overrides": []}')
    write_row(store, project.id, "model", "{not json")
    at = make_app()
    assert "Project: Demo" in texts(at.subheader)
    assert len(stage_cards(at)) == 7
    at = rerun(at.checkbox(key=Keys.HOME_DELETE_CONFIRM).check())
    at = rerun(button(at, "Delete project").click())
    assert store.list_projects() == []


def upload(at, name: str, raw: bytes):
    return rerun(at.file_uploader(key=Keys.HOME_IMPORT).set_value((name, raw, "text/plain")))


def test_a_refused_import_stays_on_the_page_until_dismissed(make_app, store):
    at = make_app()
    assert button(at, "Import").disabled
    at = upload(at, "notes.txt", b"hello, not a project")  # any file type may be chosen
    assert not button(at, "Import").disabled
    at = rerun(button(at, "Import").click())
    [error] = at.error
    assert "notes.txt" in error.value and "not valid JSON" in error.value
    at = rerun(at)
    assert len(at.error) == 1  # still there after another run, unlike a toast
    at = rerun(button(at, "Dismiss").click())
    assert not at.error
    assert store.list_projects() == []


def test_an_import_with_a_bad_record_names_it(make_app, store):
    doc = {
        "format": "lifecycle-project",
        "schema_version": 1,
        "project": {"name": "Imported"},
        "records": [{"kind": "scope", "key": "main", "data": [1, 2]}],
    }
    at = upload(make_app(), "p.lifecycle.json", json.dumps(doc).encode())
    at = rerun(button(at, "Import").click())
    assert "Record 1 (scope 'main')" in at.error[0].value
    assert store.list_projects() == []


def test_the_uploader_limit_is_the_import_limit(make_app):
    uploader = make_app().file_uploader(key=Keys.HOME_IMPORT)
    assert uploader.proto.max_upload_size_mb == 20
    assert uploader.allowed_type == []
