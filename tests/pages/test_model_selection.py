"""Model selection page: catalogue, chosen model, build-vs-reuse advisor, memory estimates."""

from __future__ import annotations

import pytest

from .helpers import goto, rerun, texts

SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"
CUSTOM = "__custom__"
BARELY_COVERED = "a language or notation models barely cover"


@pytest.fixture
def at(make_app, project):
    """A session on the Model selection page of the Demo project."""
    return goto(make_app(), "app_pages/model_selection.py")


def saved(store, project) -> dict:
    return store.get_record(project.id, "model").data


def test_without_a_model_the_memory_section_asks_for_one(at, store, project):
    assert texts(at.title) == ["2 · Select a model"]
    assert at.selectbox(key="model_pick").value == ""
    assert any("Choose a model above" in i.value for i in at.info)
    assert len(at.dataframe) == 1  # only the catalogue
    catalogue = at.dataframe[0].value
    assert SMOL in list(catalogue["Hub id"])
    assert catalogue.loc[catalogue["Hub id"] == SMOL, "Offline"].item() == "embedded"
    assert store.get_record(project.id, "model") is None  # defaults are not written


def test_choosing_a_model_saves_it_and_shows_memory_tables(at, store, project):
    at = rerun(at.selectbox(key="model_pick").select(SMOL))
    assert saved(store, project)["model_id"] == SMOL
    assert len(at.dataframe) == 3  # catalogue, memory per precision, fit per device
    memory = at.dataframe[1].value
    assert list(memory["Precision"]) == ["fp32", "fp16/bf16", "int8", "int4"]
    assert memory["Weights"].str.endswith(("MiB", "GiB")).all()
    verdicts = at.dataframe[2].value
    assert "T4" in list(verdicts["Device"])
    assert set(verdicts["fp32 inference"]) <= {"fits", "tight", "no"}
    assert verdicts.loc[verdicts["Device"] == "T4", "fp32 inference"].item() == "fits"
    assert any("Licence:" in c.value for c in at.caption)
    assert any("LoRA trains" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 2  # cost comparison and memory bars


def test_the_choice_survives_a_visit_to_another_page(at):
    at.selectbox(key="model_pick").select(SMOL)
    at = rerun(at.number_input(key="model_work_batch").set_value(8))
    at = goto(goto(at, "app_pages/plan.py"), "app_pages/model_selection.py")
    assert at.selectbox(key="model_pick").value == SMOL
    assert at.number_input(key="model_work_batch").value == 8


def test_a_zero_context_is_an_error_message_not_a_crash(at):
    at.selectbox(key="model_pick").select(SMOL)
    at = rerun(at.number_input(key="model_work_context").set_value(0))
    assert any(
        "Cannot estimate" in e.value and "at least one token" in e.value for e in at.error
    ), texts(at.error)
    assert len(at.dataframe) == 1  # no memory tables from impossible inputs


def test_a_context_beyond_the_window_warns(at):
    at.selectbox(key="model_pick").select(SMOL)
    at = rerun(at.number_input(key="model_work_context").set_value(1_000_000))
    assert any("beyond its window" in w.value for w in at.warning), texts(at.warning)
    assert len(at.dataframe) == 3


def test_a_custom_model_needs_a_positive_size(at, store, project):
    at = rerun(at.selectbox(key="model_pick").select(CUSTOM))
    at = rerun(at.text_input(key="model_custom_id").input("acme/my-model"))
    assert any("positive number of parameters" in e.value for e in at.error), texts(at.error)
    assert len(at.dataframe) == 1
    at = rerun(at.number_input(key="model_custom_params").set_value(7.0))
    assert not at.error
    assert len(at.dataframe) == 3
    data = saved(store, project)
    assert data["model_id"] == "acme/my-model" and data["custom_params"] == 7_000_000_000


def test_the_advisor_recommends_reuse_by_default(at):
    [box] = at.success
    assert "Recommendation: reuse a base model" in box.value
    assert not [w for w in at.warning if "Recommendation" in w.value]
    assert any(m.label == "Compute (FLOPs)" for m in at.metric)


def test_the_advisor_recommends_pre_training_when_everything_agrees(at, store, project):
    at.selectbox(key="model_advisor_vocabulary").select(BARELY_COVERED)
    at.select_slider(key="model_advisor_domain_tokens").set_value(1e12)
    at.number_input(key="model_advisor_budget_usd").set_value(1e9)
    at = rerun(at.number_input(key="model_advisor_time_weeks").set_value(520.0))
    assert any("Recommendation: pre-train from scratch" in w.value for w in at.warning), texts(
        at.warning
    )
    assert not [s for s in at.success if "Recommendation" in s.value]
    advisor = saved(store, project)["advisor"]
    assert advisor["vocabulary"] == BARELY_COVERED
    assert advisor["domain_tokens"] == 1e12 and advisor["time_weeks"] == 520.0


def test_a_jargon_domain_with_much_text_continues_pre_training(at):
    at.selectbox(key="model_advisor_vocabulary").select("specialised jargon")
    at = rerun(at.select_slider(key="model_advisor_domain_tokens").set_value(1e10))
    assert any("Recommendation: continue pre-training" in w.value for w in at.warning)


def test_zero_weeks_is_an_error_on_the_page(at):
    at = rerun(at.number_input(key="model_advisor_time_weeks").set_value(0.0))
    assert any("time must be > 0" in e.value for e in at.error), texts(at.error)
    assert not any(m.label == "Compute (FLOPs)" for m in at.metric)


def test_zero_weeks_does_not_break_the_other_pages(at):
    at = rerun(at.number_input(key="model_advisor_time_weeks").set_value(0.0))
    at = goto(at, "app_pages/home.py")  # the saved impossible input is not used for advice
    assert any(m.value.startswith("Project:") for m in at.subheader)
    at = goto(at, "app_pages/plan.py")
    assert any(m.label == "End" for m in at.metric)


def test_scoped_tasks_filter_the_catalogue(make_app, store, project):
    store.put_record(project.id, "scope", {"primary_task": "ner"})
    at = goto(make_app(), "app_pages/model_selection.py")
    assert at.toggle(key="model_for_tasks").value is True
    filtered = set(at.dataframe[0].value["Hub id"])
    at = rerun(at.toggle(key="model_for_tasks").set_value(False))
    everything = set(at.dataframe[0].value["Hub id"])
    assert filtered < everything
    assert "bert-base-uncased" in filtered
