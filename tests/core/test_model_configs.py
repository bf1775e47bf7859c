"""Exact shapes from real config.json files (tests/fixtures/configs) against published figures.

Each fixture holds the shape fields of the model's published config.json. Published parameter
counts are the Hugging Face hub's safetensors totals; KV cache per token follows from the
published layer and KV-head counts (e.g. Llama 2 70B: 320 KiB a token in 16 bits, the figure
behind its "1.25 GiB per 4k sequence"). No weights are downloaded: the count comes from a model
built on the meta device.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.charts import memory_chart
from lifecycle.selection.catalog import custom_model, load_catalog
from lifecycle.selection.configs import (
    ConfigError,
    config_from_folder,
    config_from_hub,
    parse_config,
    shape_record,
    spec_from_config,
    spec_from_shape,
)
from lifecycle.selection.memory import (
    GIB,
    PRECISIONS,
    Workload,
    devices,
    estimate,
    exactness,
    kv_cache_gib,
    weights_gib,
)

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
KIB = 1024
# fixture: (architecture, published parameters, KV cache bytes per token in 16 bits, catalogue id)
PUBLISHED = {
    "gemma-2b": ("decoder-only", 2_506_172_416, 18 * KIB, "google/gemma-2b"),
    "llama-2-70b": ("decoder-only", 68_976_648_192, 320 * KIB, "meta-llama/Llama-2-70b-hf"),
    "codellama-34b": ("decoder-only", 33_743_970_304, 192 * KIB, ""),
    "multilingual-e5-large": ("encoder-only", 559_890_432, 0, "intfloat/multilingual-e5-large"),
    "smollm2-135m-instruct": (
        "decoder-only",
        134_515_008,
        22.5 * KIB,
        "HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
    "qwen2.5-7b-instruct": ("decoder-only", 7_615_616_512, 56 * KIB, "Qwen/Qwen2.5-7B-Instruct"),
    "flan-t5-base": ("encoder-decoder", 247_577_856, 36 * KIB, "google/flan-t5-base"),
    "bert-base-uncased": ("encoder-only", 109_482_240, 0, "bert-base-uncased"),
}
# Hugging Face accelerate's `estimate-memory` totals for meta-llama/Llama-2-70b-hf (GB = 2^30 B)
ACCELERATE_70B = {"fp32": 256.96, "fp16/bf16": 128.48, "int8": 64.24, "int4": 32.12}


def spec(name: str):
    return spec_from_config(parse_config((CONFIGS / f"{name}.json").read_text()), name)


@pytest.fixture(scope="module")
def specs():
    return {name: spec(name) for name in PUBLISHED}


@pytest.mark.parametrize("name", PUBLISHED)
def test_parameter_count_from_the_config_matches_the_published_count(specs, name):
    architecture, published, _, _ = PUBLISHED[name]
    model = specs[name]
    assert model.architecture == architecture
    assert abs(model.params - published) / published < 0.005
    assert model.source == "config" and model.shape_exact


@pytest.mark.parametrize("name", PUBLISHED)
def test_kv_cache_per_token_follows_the_published_shape(specs, name):
    per_token = kv_cache_gib(specs[name], 1, 1, "fp16/bf16") * GIB
    assert per_token == PUBLISHED[name][2]
    assert kv_cache_gib(specs[name], 4096, 2, "fp32") == pytest.approx(
        per_token * 2 * 4096 * 2 / GIB
    )


@pytest.mark.parametrize("name", PUBLISHED)
def test_weights_per_precision_are_parameters_times_bytes(specs, name):
    for precision, size in PRECISIONS.items():
        assert weights_gib(specs[name].params, precision) == specs[name].params * size / GIB


@pytest.mark.parametrize(("precision", "published_gb"), ACCELERATE_70B.items())
def test_llama_2_70b_weights_match_accelerate(specs, precision, published_gb):
    got = weights_gib(specs["llama-2-70b"].params, precision)
    assert abs(got - published_gb) / published_gb < 0.005


def test_grouped_and_multi_query_attention_shrink_the_kv_cache(specs):
    # at 2k context: ~0.63 GiB (not 5.4 with a KV head per query head) and ~36 MiB (not 0.5 GiB)
    assert kv_cache_gib(specs["llama-2-70b"], 2048, 1, "fp16/bf16") == pytest.approx(0.625)
    assert kv_cache_gib(specs["gemma-2b"], 2048, 1, "fp16/bf16") * 1024 == pytest.approx(36)
    guessed = custom_model(specs["llama-2-70b"].params)
    assert kv_cache_gib(guessed, 2048, 1, "fp16/bf16") > 5  # the old guess: full attention
    assert kv_cache_gib(specs["multilingual-e5-large"], 2048, 1, "fp16/bf16") == 0


@pytest.mark.parametrize("name", [n for n, p in PUBLISHED.items() if p[3]])
def test_the_catalogue_entry_has_the_configs_shape(specs, name):
    entry, model = load_catalog()[PUBLISHED[name][3]], specs[name]
    for field in ("params", "layers", "hidden_size", "heads", "kv_heads", "vocab_size"):
        assert getattr(entry, field) == getattr(model, field), field
    assert entry.attention_head_dim == model.attention_head_dim
    assert entry.architecture == model.architecture


def test_the_catalogue_has_the_code_model_of_the_34b_config(specs):
    entry, model = load_catalog()["codellama/CodeLlama-34b-Instruct-hf"], specs["codellama-34b"]
    assert (entry.params, entry.layers, entry.kv_heads) == (model.params, 48, 8)
    assert "code_generation" in entry.tasks and entry.licence == "Llama 2 Community License"


def test_which_figures_are_exact_and_which_are_estimates(specs):
    read = exactness(specs["llama-2-70b"])
    assert read["Weights"][0] == read["KV cache"][0] == read["LoRA trainable"][0] == "exact"
    assert read["Inference"][0] == read["Full fine-tune (Adam)"][0] == "estimate"
    guessed = exactness(custom_model(7_000_000_000))
    assert guessed["Weights"][0] == "exact" and guessed["KV cache"][0] == "estimate"
    assert exactness(specs["flan-t5-base"])["KV cache"][0] == "estimate"  # cross-attention
    assert exactness(specs["bert-base-uncased"])["KV cache"][0] == "exact"


def test_a_saved_shape_rebuilds_the_same_model(specs):
    model = specs["gemma-2b"]
    again = spec_from_shape(json.loads(json.dumps(shape_record(model))), "gemma-2b")
    assert again == model


def test_a_local_folder_is_read_by_its_config(tmp_path):
    (tmp_path / "config.json").write_text((CONFIGS / "gemma-2b.json").read_text())
    assert spec_from_config(config_from_folder(str(tmp_path)), "x").kv_heads == 1
    with pytest.raises(ConfigError, match="No config.json"):
        config_from_folder(str(tmp_path / "missing"))


def test_the_hub_is_not_asked_when_it_is_off(monkeypatch):
    monkeypatch.setenv("LIFECYCLE_ALLOW_HUB", "0")
    with pytest.raises(ConfigError, match="hub is off"):
        config_from_hub("google/gemma-2b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "Not valid JSON"),
        ("[1, 2]", "model_type"),
        ('{"model_type": "no-such-model"}', "does not know model_type"),
        ('{"model_type": "llama", "num_hidden_layers": 100000}', "usable shape"),
        ('{"model_type": "llama", "num_attention_heads": 8, "num_key_value_heads": 16}', "shape"),
    ],
)
def test_unusable_configs_get_a_message(text, message):
    with pytest.raises(ConfigError, match=message):
        spec_from_config(parse_config(text), "bad")


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["architecture", "params", "layers", "hidden_size", "heads", "kv_heads"]),
        st.one_of(st.integers(-5, 10**17), st.text(max_size=5), st.none(), st.booleans()),
    )
)
def test_a_hand_edited_saved_shape_is_a_model_or_nothing(shape):
    model = spec_from_shape(shape, "x")
    assert model is None or (model.params > 0 and model.kv_heads <= model.heads)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_any_pasted_text_is_a_config_or_a_clear_error(text):
    try:
        parse_config(text)
    except ConfigError:
        pass


@pytest.mark.parametrize("name", ["smollm2-135m-instruct", "llama-2-70b", "bert-base-uncased"])
def test_the_memory_chart_axis_stays_within_the_data(specs, name):
    rows = estimate(specs[name], Workload(context=2048))
    gpus = devices()[:-1]
    fig = memory_chart(rows, gpus)
    low, high = fig.layout.yaxis.range
    values = [y for bar in fig.data for y in bar.y if y] + [d.memory_gib for d in gpus]
    assert 10**low <= min(values) and 10**high >= max(values)
    assert 10**low >= min(values) / 2 and 10**high <= max(values) * 2  # no empty decades
    for note in fig.layout.annotations:  # labels sit on their lines, inside the range
        assert low <= note.y <= high, note.text
    assert len(fig.layout.annotations) == len({round(d.memory_gib, 1) for d in gpus})
