"""Model selection page: the chosen model above four tabs (Catalogue, Build or reuse, Memory,
Compute), models outside the catalogue by their config.json, and advice linked to the scope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.state import Keys

from .helpers import goto, rerun, texts

SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"
CUSTOM = "__custom__"
BARELY_COVERED = "a language or notation models barely cover"
CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
TABS = ["Catalogue", "Build or reuse", "Memory", "Compute"]


@pytest.fixture
def at(make_app, project):
    """A session on the Model selection page of the Demo project."""
    return goto(make_app(), "app_pages/model_selection.py")


def saved(store, project) -> dict:
    return store.get_record(project.id, "model").data


def tab(at, label: str):
    """One of the page's four tabs (the stage guide has tabs of its own)."""
    [found] = [t for t in at.tabs if t.label == label]
    return found


def test_the_page_is_split_into_four_tabs_under_the_chosen_model(at):
    labels = [t.label for t in at.tabs]
    assert labels[-4:] == TABS
    assert at.selectbox(key=Keys.MODEL_PICK).value == ""
    assert len(tab(at, "Catalogue").dataframe) == 1
    assert not tab(at, "Memory").dataframe
    assert any("Choose a model above" in i.value for i in tab(at, "Memory").info)


def test_without_a_model_nothing_is_saved(at, store, project):
    catalogue = tab(at, "Catalogue").dataframe[0].value
    assert SMOL in list(catalogue["Hub id"])
    assert catalogue.loc[catalogue["Hub id"] == SMOL, "Offline"].item() == "embedded"
    assert store.get_record(project.id, "model") is None  # defaults are not written


def test_choosing_a_model_saves_it_and_fills_the_memory_tab(at, store, project):
    at = rerun(at.selectbox(key=Keys.MODEL_PICK).select(SMOL))
    assert saved(store, project)["model_id"] == SMOL
    memory_tab = tab(at, "Memory")
    assert len(memory_tab.dataframe) == 2  # memory per precision, fit per device
    memory = memory_tab.dataframe[0].value
    assert list(memory["Precision"]) == ["fp32", "fp16/bf16", "int8", "int4"]
    assert memory["Weights"].str.endswith(("MiB", "GiB")).all()
    verdicts = memory_tab.dataframe[1].value
    assert verdicts.loc[verdicts["Device"] == "T4", "fp32 inference"].item() == "fits"
    captions = " ".join(c.value for c in memory_tab.caption)
    assert "LoRA trains" in captions and "**Exact:** Weights" in captions
    assert "**Estimated:** Inference" in captions and "KV cache: 22.5 KiB per token" in captions
    assert any("Licence:" in c.value for c in at.caption)
    assert len(memory_tab.get("plotly_chart")) == 1
    assert len(tab(at, "Build or reuse").get("plotly_chart")) == 1  # the cost comparison


def test_the_compute_tab_compares_every_route_in_the_same_units(at):
    compute = tab(at, "Compute")
    assert any(m.label == "Compute (FLOPs)" for m in compute.metric)
    routes = compute.dataframe[0].value
    assert list(routes["Route"]) == [
        "Pre-train: final run",
        "Pre-train: with failed runs",
        "Continue pre-training",
        "Reuse + LoRA",
    ]
    assert set(routes.columns) >= {"Tokens", "FLOPs", "GPU-hours", "Cost (USD)", "Calendar"}
    assert any("2-15T tokens" in c.value for c in compute.caption)


def test_the_choice_survives_a_visit_to_another_page(at):
    at.selectbox(key=Keys.MODEL_PICK).select(SMOL)
    at = rerun(at.number_input(key=Keys.MODEL_WORK + "batch").set_value(8))
    at = goto(goto(at, "app_pages/plan.py"), "app_pages/model_selection.py")
    assert at.selectbox(key=Keys.MODEL_PICK).value == SMOL
    assert at.number_input(key=Keys.MODEL_WORK + "batch").value == 8


def test_a_zero_context_is_an_error_message_not_a_crash(at):
    at.selectbox(key=Keys.MODEL_PICK).select(SMOL)
    at = rerun(at.number_input(key=Keys.MODEL_WORK + "context").set_value(0))
    assert any(
        "Cannot estimate" in e.value and "at least one token" in e.value for e in at.error
    ), texts(at.error)
    assert not tab(at, "Memory").dataframe  # no memory tables from impossible inputs


def test_a_context_beyond_the_window_warns(at):
    at.selectbox(key=Keys.MODEL_PICK).select(SMOL)
    at = rerun(at.number_input(key=Keys.MODEL_WORK + "context").set_value(1_000_000))
    assert any("beyond its window" in w.value for w in at.warning), texts(at.warning)
    assert len(tab(at, "Memory").dataframe) == 2


def test_a_model_known_only_by_its_size_needs_a_positive_size(at, store, project):
    at = rerun(at.selectbox(key=Keys.MODEL_PICK).select(CUSTOM))
    at = rerun(at.radio(key=Keys.MODEL_CUSTOM_HOW).set_value("size only"))
    at = rerun(at.text_input(key=Keys.MODEL_CUSTOM_ID).input("acme/my-model"))
    assert any("positive number of parameters" in e.value for e in at.error), texts(at.error)
    assert not tab(at, "Memory").dataframe
    at = rerun(at.number_input(key=Keys.MODEL_CUSTOM_PARAMS).set_value(7.0))
    assert not at.error
    assert len(tab(at, "Memory").dataframe) == 2
    captions = " ".join(c.value for c in tab(at, "Memory").caption)
    assert "KV cache (layers and heads guessed from the size" in captions
    data = saved(store, project)
    assert data["model_id"] == "acme/my-model" and data["custom_params"] == 7_000_000_000
    assert "custom_shape" not in data


def test_a_pasted_config_gives_the_exact_shape_and_kv_cache(at, store, project):
    at = rerun(at.selectbox(key=Keys.MODEL_PICK).select(CUSTOM))
    assert at.radio(key=Keys.MODEL_CUSTOM_HOW).value == "config.json"
    assert any("Read the config" in i.value for i in at.info)
    text = (CONFIGS / "llama-2-70b.json").read_text()
    at.text_input(key=Keys.MODEL_CUSTOM_ID).input("acme/llama-2-70b-tuned")
    at = rerun(at.text_area(key=Keys.MODEL_CUSTOM_TEXT).input(text))
    at = rerun(next(b for b in at.button if b.label == "Read the shape").click())
    assert not at.error, texts(at.error)
    assert any("68,976,648,192 parameters" in c.value for c in at.caption)
    memory = tab(at, "Memory").dataframe[0].value
    fp16 = memory.loc[memory["Precision"] == "fp16/bf16"].iloc[0]
    assert fp16["KV cache"] == "0.6 GiB"  # 0.625 GiB at 2k: 8 grouped KV heads, not 5.4 GiB
    assert fp16["Weights"] == "128.5 GiB"
    data = saved(store, project)
    assert data["model_id"] == "acme/llama-2-70b-tuned"
    assert data["custom_shape"]["kv_heads"] == 8 and data["custom_params"] == 68_976_648_192
    at = goto(goto(at, "app_pages/home.py"), "app_pages/model_selection.py")
    assert at.selectbox(key=Keys.MODEL_PICK).value == CUSTOM  # reopened from the saved shape
    assert tab(at, "Memory").dataframe[0].value.loc[1, "KV cache"] == "0.6 GiB"


def test_an_encoder_config_has_no_kv_cache(at):
    at = rerun(at.selectbox(key=Keys.MODEL_PICK).select(CUSTOM))
    text = (CONFIGS / "multilingual-e5-large.json").read_text()
    at = rerun(at.text_area(key=Keys.MODEL_CUSTOM_TEXT).input(text))
    at = rerun(next(b for b in at.button if b.label == "Read the shape").click())
    memory = tab(at, "Memory").dataframe[0].value
    assert set(memory["KV cache"]) == {"0 B"} or set(memory["KV cache"]) == {"0 MiB"}
    assert any("none (encoder)" in c.value for c in tab(at, "Memory").caption)


def test_a_broken_config_is_a_message_not_a_crash(at, store, project):
    at = rerun(at.selectbox(key=Keys.MODEL_PICK).select(CUSTOM))
    at = rerun(at.text_area(key=Keys.MODEL_CUSTOM_TEXT).input('{"hidden_size": 4096'))
    at = rerun(next(b for b in at.button if b.label == "Read the shape").click())
    assert any("Not valid JSON" in e.value for e in at.error), texts(at.error)
    at = rerun(at.text_area(key=Keys.MODEL_CUSTOM_TEXT).input('{"model_type": "nope"}'))
    at = rerun(next(b for b in at.button if b.label == "Read the shape").click())
    assert any("does not know model_type" in e.value for e in at.error), texts(at.error)
    assert store.get_record(project.id, "model") is None


def test_the_hub_route_says_when_the_hub_is_off(at, monkeypatch):
    monkeypatch.setenv("LIFECYCLE_ALLOW_HUB", "0")
    at = rerun(at.selectbox(key=Keys.MODEL_PICK).select(CUSTOM))
    at = rerun(at.radio(key=Keys.MODEL_CUSTOM_HOW).set_value("hub id"))
    at.text_input(key=Keys.MODEL_CUSTOM_ID).input("google/gemma-2b")
    at = rerun(next(b for b in at.button if b.label == "Read the shape").click())
    assert any("hub is off" in e.value for e in at.error), texts(at.error)


def test_the_advisor_recommends_reuse_by_default(at):
    build = tab(at, "Build or reuse")
    [box] = build.success
    assert "Recommendation: reuse a base model" in box.value
    assert any("come from your scope" in c.value for c in build.caption)


def test_budget_and_time_come_from_the_scope_not_a_second_input(make_app, store, project):
    answers = {"budget": "over $1M", "timeline_weeks": 104}  # sized for its 3B band top
    store.put_record(project.id, "scope", {"primary_task": "summarization", "answers": answers})
    at = goto(make_app(), "app_pages/model_selection.py")
    assert not [n for n in at.number_input if n.key in (Keys.MODEL_ADVISOR + "budget_usd",)]
    assert not [n for n in at.number_input if n.key in (Keys.MODEL_ADVISOR + "time_weeks",)]
    assert any("over $1M" in c.value and "104 weeks" in c.value for c in at.caption)
    at.selectbox(key=Keys.MODEL_ADVISOR + "vocabulary").select(BARELY_COVERED)
    at = rerun(at.select_slider(key=Keys.MODEL_ADVISOR + "domain_tokens").set_value(1e12))
    warnings = texts(tab(at, "Build or reuse").warning)
    assert any("Recommendation: pre-train from scratch" in w for w in warnings), warnings
    advisor = saved(store, project)["advisor"]
    assert advisor["vocabulary"] == BARELY_COVERED and "budget_usd" not in advisor


def test_a_small_scope_budget_rules_out_pre_training(make_app, store, project):
    store.put_record(project.id, "scope", {"primary_task": "summarization", "answers": {}})
    at = goto(make_app(), "app_pages/model_selection.py")  # the scope's budget: under $1k
    at.selectbox(key=Keys.MODEL_ADVISOR + "vocabulary").select(BARELY_COVERED)
    at = rerun(at.select_slider(key=Keys.MODEL_ADVISOR + "domain_tokens").set_value(1e12))
    build = tab(at, "Build or reuse")
    assert not any("pre-train from scratch" in w.value for w in build.warning)
    assert any("Budget: $1,000 of the" in m.value for m in build.markdown)


def test_a_jargon_domain_with_much_text_continues_pre_training(at):
    at.selectbox(key=Keys.MODEL_ADVISOR + "vocabulary").select("specialised jargon")
    at = rerun(at.select_slider(key=Keys.MODEL_ADVISOR + "domain_tokens").set_value(1e10))
    assert any("Recommendation: continue pre-training" in w.value for w in at.warning)


def test_scoped_tasks_and_band_filter_the_catalogue(make_app, store, project):
    answers = {"labelled_examples": "1k-10k", "budget": "$10k-100k"}
    store.put_record(project.id, "scope", {"primary_task": "ner", "answers": answers})
    at = goto(make_app(), "app_pages/model_selection.py")
    assert at.toggle(key=Keys.MODEL_FOR_TASKS).value is True
    assert at.toggle(key=Keys.MODEL_IN_BAND).value is True
    banded = set(tab(at, "Catalogue").dataframe[0].value["Hub id"])
    assert "bert-large-cased" in banded and "meta-llama/Llama-3.1-70B-Instruct" not in banded
    at = rerun(at.toggle(key=Keys.MODEL_IN_BAND).set_value(False))
    filtered = set(tab(at, "Catalogue").dataframe[0].value["Hub id"])
    at = rerun(at.toggle(key=Keys.MODEL_FOR_TASKS).set_value(False))
    everything = set(tab(at, "Catalogue").dataframe[0].value["Hub id"])
    assert banded < filtered < everything


def test_saved_values_outside_the_inputs_are_clamped_not_a_crash(make_app, store, project):
    store.put_record(  # as an imported project or an older version may have saved them
        project.id,
        "model",
        {
            "model_id": "some/custom-model",
            "custom_params": 10**16,
            "custom_shape": {"architecture": "decoder-only", "layers": -1},
            "workload": {"context": -5, "batch": 10**6, "lora_rank": "eight"},
            "advisor": {"utilisation": 7.0, "gpus": 0, "gpu": "nope", "domain_tokens": "lots"},
        },
    )
    at = goto(make_app(), "app_pages/model_selection.py")
    assert at.number_input(key=Keys.MODEL_WORK + "context").value == 0
    assert at.number_input(key=Keys.MODEL_WORK + "batch").value == 4096
    assert at.number_input(key=Keys.MODEL_WORK + "lora_rank").value == 16
    assert at.slider(key=Keys.MODEL_ADVISOR + "utilisation").value == 1.0
    assert at.number_input(key=Keys.MODEL_ADVISOR + "gpus").value == 1
    assert at.radio(key=Keys.MODEL_CUSTOM_HOW).value == "size only"  # the bad shape is ignored
    assert at.number_input(key=Keys.MODEL_CUSTOM_PARAMS).value == 10_000.0
    json.dumps(saved(store, project))  # still a plain JSON record
