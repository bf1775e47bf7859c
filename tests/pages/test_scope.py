"""Scope page: task table, primary and secondary tasks, scope questions, result cards."""

from __future__ import annotations

import re

import pytest

from components.state import Keys
from lifecycle.scope import Scope

from .helpers import goto, rerun, texts

SIZE_BAND = re.compile(r"^\d+(\.\d+)?[MB]-\d+(\.\d+)?[MB]$")


@pytest.fixture
def at(make_app, project):
    """A session on the Scope page of the Demo project."""
    return goto(make_app(), "app_pages/scope.py")


def card_titles(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("#### ")]


def metrics(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def test_without_a_project_it_points_to_home(make_app):
    at = goto(make_app(), "app_pages/scope.py")
    assert "Create a project on the Home page first" in at.info[0].value
    assert not at.title  # st.stop() before the page is drawn
    assert len(at.get("page_link")) == 1


def test_before_a_choice_it_asks_for_a_primary_task(at, store, project):
    assert texts(at.title) == ["1 · Define the scope"]
    assert at.selectbox(key=Keys.SCOPE_PRIMARY).value is None
    assert any("Choose a primary task" in i.value for i in at.info)
    assert at.metric.len == 0
    assert len(at.dataframe[0].value) == 10  # the whole task table
    assert store.get_record(project.id, "scope") is None  # nothing decided, nothing written


def test_summarization_shows_its_card_and_is_saved(at, store, project):
    at = rerun(at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    assert card_titles(at) == ["#### Primary: Conversation Summarization"]
    found = dict(metrics(at))
    assert found["Architecture"] == "encoder-decoder"
    assert SIZE_BAND.match(found["Model size (parameters)"]), found["Model size (parameters)"]
    assert found["Main metric"] == "rouge"
    record = store.get_record(project.id, "scope")
    assert record.data["primary_task"] == "summarization"
    assert record.data["secondary_tasks"] == []
    assert record.revision == 1


def test_answers_narrow_the_size_band_of_the_recommended_architecture(at):
    at = rerun(at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    assert dict(metrics(at))["Model size (parameters)"] == "60M-3B"  # seq2seq models
    at.selectbox(key=Keys.SCOPE_ANSWER + "budget").select("over $1M")
    at = rerun(at.selectbox(key=Keys.SCOPE_ANSWER + "quality_bar").select("customer-facing"))
    assert dict(metrics(at))["Model size (parameters)"] == "400M-3B"  # not 2B-8B
    assert any("customer-facing bar starts near 400M" in c.value for c in at.caption)
    [models] = [m.value for m in at.markdown if m.value.startswith("**Catalogue models")]
    assert "BART large CNN" in models and "FLAN-T5 large" in models


def test_labelled_data_moves_ner_to_an_encoder_tagger_first(at):
    at = rerun(at.selectbox(key=Keys.SCOPE_PRIMARY).select("ner"))
    assert dict(metrics(at))["Architecture"] == "decoder-only"  # no labels yet: prompt an LLM
    at = rerun(at.selectbox(key=Keys.SCOPE_ANSWER + "labelled_examples").select("1k-10k"))
    assert dict(metrics(at))["Architecture"] == "encoder-only"
    ladder = [m.value for m in at.markdown if "badge[" in m.value]
    assert any(r.startswith(":green-badge[start here] **Full fine-tune**") for r in ladder)
    assert any(r.startswith(":violet-badge[baseline] **Zero-shot prompt**") for r in ladder)
    assert not any("badge[skip]" in r for r in ladder)


def test_the_scope_says_what_each_stage_needs(at):
    at = rerun(at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    needs = [m.value for m in at.markdown if m.value.split("]")[-1].startswith(" **")]
    stages = [n for n in needs if "**4. Align**" in n]
    assert stages == [
        ":gray-badge[if needed] **4. Align**: Only if evaluation shows unhelpful or unsafe outputs."
    ]
    assert any(n.startswith(":blue-badge[needed] **3. Adapt**") for n in needs)


def test_answers_persist_after_visiting_another_page(at, store, project):
    at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization")
    at.multiselect(key=Keys.SCOPE_SECONDARY).select("translation")
    at.selectbox(key=Keys.SCOPE_ANSWER + "privacy").select("must stay on premises")
    at.selectbox(key=Keys.SCOPE_ANSWER + "labelled_examples").select("100-1k")
    at = rerun(at.slider(key=Keys.SCOPE_WEEKS).set_value(30))
    for page in ("app_pages/home.py", "app_pages/model_selection.py", "app_pages/scope.py"):
        at = goto(at, page)
    assert at.selectbox(key=Keys.SCOPE_PRIMARY).value == "summarization"
    assert at.multiselect(key=Keys.SCOPE_SECONDARY).value == ["translation"]
    assert at.selectbox(key=Keys.SCOPE_ANSWER + "privacy").value == "must stay on premises"
    assert at.selectbox(key=Keys.SCOPE_ANSWER + "labelled_examples").value == "100-1k"
    assert at.slider(key=Keys.SCOPE_WEEKS).value == 30
    answers = store.get_record(project.id, "scope").data["answers"]
    assert answers["privacy"] == "must stay on premises" and answers["timeline_weeks"] == 30


def test_a_new_session_loads_the_saved_scope(make_app, store, project):
    answers = {"latency": "batch (minutes are fine)"}
    store.put_record(project.id, "scope", {"primary_task": "ner", "answers": answers})
    at = goto(make_app(), "app_pages/scope.py")
    assert at.selectbox(key=Keys.SCOPE_PRIMARY).value == "ner"
    assert at.selectbox(key=Keys.SCOPE_ANSWER + "latency").value == "batch (minutes are fine)"
    assert card_titles(at) == ["#### Primary: Named Entity Recognition"]


def test_search_filters_the_task_table(at):
    at = rerun(at.text_input(key=Keys.SCOPE_QUERY).input("entities"))
    assert list(at.dataframe[0].value["Task"]) == ["Named Entity Recognition"]
    assert at.selectbox(key=Keys.SCOPE_PRIMARY).options == ["Named Entity Recognition"]
    at = rerun(at.text_input(key=Keys.SCOPE_QUERY).input("zzzz"))
    assert len(at.dataframe[0].value) == 0
    assert any("No task matches this search" in i.value for i in at.info)
    at = rerun(at.text_input(key=Keys.SCOPE_QUERY).input(""))
    at = rerun(at.selectbox(key=Keys.SCOPE_ARCH).select("encoder-only"))
    assert "Named Entity Recognition" in list(at.dataframe[0].value["Task"])
    assert "Essay Writing" not in list(at.dataframe[0].value["Task"])


def test_a_chosen_task_stays_selectable_when_the_search_hides_it(at, store, project):
    at = rerun(at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    at = rerun(at.text_input(key=Keys.SCOPE_QUERY).input("SQL"))
    assert at.selectbox(key=Keys.SCOPE_PRIMARY).value == "summarization"
    assert list(at.dataframe[0].value["Task"]) == ["Code Generation"]
    assert store.get_record(project.id, "scope").data["primary_task"] == "summarization"


def test_secondary_tasks_add_cards(at, store, project):
    at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization")
    at = rerun(at.multiselect(key=Keys.SCOPE_SECONDARY).select("ner").select("translation"))
    assert card_titles(at) == [
        "#### Primary: Conversation Summarization",
        "#### Secondary: Named Entity Recognition",
        "#### Secondary: Translation Tasks",
    ]
    assert [label for label, _ in metrics(at)].count("Architecture") == 3
    data = store.get_record(project.id, "scope").data
    assert data["secondary_tasks"] == ["ner", "translation"]


def test_the_primary_task_is_not_repeated_as_a_secondary_one(at, store, project):
    at.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization")
    at = rerun(at.multiselect(key=Keys.SCOPE_SECONDARY).select("summarization"))
    assert card_titles(at) == ["#### Primary: Conversation Summarization"]
    assert store.get_record(project.id, "scope").data["secondary_tasks"] == []


@pytest.fixture
def two_tabs(make_app, project):
    """Two sessions (tabs) on the Scope page of the same project, both loaded."""
    return goto(make_app(), "app_pages/scope.py"), goto(make_app(), "app_pages/scope.py")


def conflict_warnings(at) -> list[str]:
    return [w.value for w in at.warning if "changed in another tab" in w.value]


def test_a_tab_with_unsaved_changes_is_warned_and_can_keep_its_version(two_tabs, store, project):
    tab_a, tab_b = two_tabs
    rerun(tab_a.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    tab_b = rerun(
        tab_b.selectbox(key=Keys.SCOPE_ANSWER + "latency").select("batch (minutes are fine)")
    )
    [warning] = conflict_warnings(tab_b)
    assert "not saved yet" in warning
    assert store.get_record(project.id, "scope").data["primary_task"] == "summarization"
    tab_b = rerun(tab_b.button(key=Keys.CONFLICT_KEEP + "scope").click())
    assert conflict_warnings(tab_b) == []
    record = store.get_record(project.id, "scope")
    assert record.revision == 2
    assert record.data["primary_task"] == ""  # tab B's version, as it was on its screen
    assert record.data["answers"]["latency"] == "batch (minutes are fine)"
    # tab B keeps saving normally afterwards
    rerun(tab_b.selectbox(key=Keys.SCOPE_PRIMARY).select("ner"))
    assert store.get_record(project.id, "scope").data["primary_task"] == "ner"


def test_a_tab_in_conflict_can_load_the_other_version(two_tabs, store, project):
    tab_a, tab_b = two_tabs
    rerun(tab_a.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    tab_b = rerun(
        tab_b.selectbox(key=Keys.SCOPE_ANSWER + "latency").select("batch (minutes are fine)")
    )
    assert conflict_warnings(tab_b)
    tab_b = rerun(tab_b.button(key=Keys.CONFLICT_LOAD + "scope").click())
    assert conflict_warnings(tab_b) == []
    assert tab_b.selectbox(key=Keys.SCOPE_PRIMARY).value == "summarization"
    assert tab_b.selectbox(key=Keys.SCOPE_ANSWER + "latency").value == "near real time (< 5 s)"
    assert card_titles(tab_b) == ["#### Primary: Conversation Summarization"]
    record = store.get_record(project.id, "scope")
    assert record.revision == 1 and record.data["answers"]["latency"] == "near real time (< 5 s)"


def test_an_untouched_tab_follows_the_other_tab(two_tabs, store, project):
    tab_a, tab_b = two_tabs
    rerun(tab_a.selectbox(key=Keys.SCOPE_PRIMARY).select("summarization"))
    tab_b = rerun(tab_b)
    assert conflict_warnings(tab_b) == []
    assert tab_b.selectbox(key=Keys.SCOPE_PRIMARY).value == "summarization"
    assert store.get_record(project.id, "scope").revision == 1


def test_switching_project_in_the_sidebar_loads_its_scope(make_app, store, project):
    other = store.create_project("Other")
    store.put_record(project.id, "scope", Scope("summarization").to_dict())
    store.put_record(other.id, "scope", Scope("ner", ("translation",)).to_dict())
    at = goto(make_app(), "app_pages/scope.py")
    for target, primary, secondary in (
        (other, "ner", ["translation"]),
        (project, "summarization", []),
    ):
        at = rerun(at.sidebar.selectbox(key=Keys.SIDEBAR_PROJECT).select(target.id))
        assert at.selectbox(key=Keys.SCOPE_PRIMARY).value == primary
        assert at.multiselect(key=Keys.SCOPE_SECONDARY).value == secondary
    assert store.get_record(other.id, "scope").revision == 1  # switching wrote nothing
    assert store.get_record(project.id, "scope").revision == 1


def test_a_hand_edited_scope_is_repaired_for_the_widgets(make_app, store, project):
    import sqlite3

    row = (
        '{"primary_task": "gone", "secondary_tasks": ["gone"], "answers": {"timeline_weeks": 500}}'
    )
    with sqlite3.connect(store.path) as con:
        con.execute(
            "INSERT INTO records VALUES (?, 'scope', 'main', ?, 1, '2026-01-01')", (project.id, row)
        )
    at = goto(make_app(), "app_pages/scope.py")
    assert at.selectbox(key=Keys.SCOPE_PRIMARY).value is None  # a task this app does not know
    assert at.multiselect(key=Keys.SCOPE_SECONDARY).value == []
    assert at.slider(key=Keys.SCOPE_WEEKS).value == 12  # out of range: the default
