"""The shipped knowledge is complete: 10 tasks with every field, 7 guides, a 20+ model catalogue."""

import re

import pytest

from lifecycle.selection.catalog import embedded_model, load_catalog
from lifecycle.stages import STAGES, guide_sections
from lifecycle.tasks import ARCHITECTURES, FITS, LADDER, TASK_IDS, load_tasks, search_tasks

SEED_NAMES = [
    "Chatbot Functions",
    "Essay Writing",
    "Conversation Summarization",
    "Translation Tasks",
    "Code Generation",
    "Information Retrieval",
    "Named Entity Recognition",
    "External Data and API Integration",
    "Fine-Tuning for Specific Tasks",
    "Language Understanding",
]


def test_task_table_has_the_ten_seed_tasks_in_order():
    tasks = load_tasks()
    assert tuple(tasks) == TASK_IDS
    assert [t.name for t in tasks.values()] == SEED_NAMES


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_task_has_every_field(task_id):
    t = load_tasks()[task_id]
    assert t.description and t.size_typical and t.size_why and t.start_why
    assert sorted(a.name for a in t.architectures) == sorted(ARCHITECTURES)
    assert all(a.fit in FITS and a.why for a in t.architectures)
    assert 0 < t.size_min_b <= t.size_max_b
    assert 2 <= len(t.metrics) <= 4 and all(m.why for m in t.metrics)
    assert tuple(r.name for r in t.ladder) == LADDER and all(r.why for r in t.ladder)
    assert t.start_at in LADDER
    assert len(t.risks) >= 3 and all(r.name and r.why for r in t.risks)
    assert t.prompt.system and t.prompt.instruction
    assert re.findall(r"\{(\w+)\}", t.prompt.template) == ["input"]
    assert len(t.prompt.examples) == 5 and all(e.input and e.output for e in t.prompt.examples)
    assert len(t.example_inputs) == 3


def test_search_finds_tasks_by_keyword_and_architecture():
    tasks = load_tasks()
    assert [t.id for t in search_tasks(tasks, "entities")][:1] == ["ner"]
    assert search_tasks(tasks, "zzzz-nothing") == []
    encoders = {t.id for t in search_tasks(tasks, "", "encoder-only")}
    assert "ner" in encoders and "essay_writing" not in encoders


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.id)
def test_every_stage_has_a_complete_guide(stage):
    sections = guide_sections(stage.id)
    for name in ("What is decided", "Inputs", "Outputs", "Pitfalls", "Done when"):
        assert len(sections[name]) > 40, name
    assert sections[""]


def test_evaluate_guide_covers_the_benchmarks():
    text = guide_sections("evaluate")["Going further"]
    for bench in ("GLUE", "SuperGLUE", "MMLU", "HELM", "BIG-bench"):
        assert bench in text


def test_catalogue_is_broad_and_complete():
    catalog = load_catalog()
    assert len(catalog) >= 20
    assert {m.architecture for m in catalog.values()} == set(ARCHITECTURES)
    assert embedded_model(catalog).id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert sum(m.embedded for m in catalog.values()) == 1
    for m in catalog.values():
        assert m.params > 0 and m.layers > 0 and m.hidden_size > 0 and m.context_length > 0
        assert 0 < m.kv_heads <= m.heads and m.licence
        assert set(m.tasks) <= set(TASK_IDS), m.id


def test_catalogue_matches_published_parameter_counts():
    catalog = load_catalog()
    assert catalog["meta-llama/Llama-2-7b-hf"].params == 6_738_415_616
    assert catalog["HuggingFaceTB/SmolLM2-135M-Instruct"].params == 134_515_008
    assert catalog["gpt2"].params == 124_439_808


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_architecture_worth_using_has_a_size_band(task_id):
    task = load_tasks()[task_id]
    for arch in task.architectures:
        band = task.band(arch.name)
        assert band is not None or arch.fit in ("possible", "poor"), arch.name
        if band:
            assert 0 < band.min_b <= band.customer_min_b <= band.max_b, arch.name
            assert band.why and (band.start_at in LADDER or not band.start_at)
    assert task.alignment in ("customer-facing", "if needed", "not needed")


def test_catalogue_covers_embedders_a_30b_code_model_and_reference_sizes():
    catalog = load_catalog()
    for model_id in (
        "BAAI/bge-small-en-v1.5",
        "intfloat/multilingual-e5-large",
        "codellama/CodeLlama-34b-Instruct-hf",
        "google/gemma-2b",
        "google/gemma-7b",
        "meta-llama/Llama-2-13b-hf",
        "meta-llama/Llama-2-70b-hf",
        "Helsinki-NLP/opus-mt-en-fr",
        "facebook/nllb-200-distilled-600M",
    ):
        assert model_id in catalog, model_id
    assert catalog["facebook/nllb-200-distilled-600M"].licence_commercial is False  # CC-BY-NC
    assert catalog["google/gemma-2b"].kv_heads == 1 and catalog["google/gemma-2b"].head_dim == 256
