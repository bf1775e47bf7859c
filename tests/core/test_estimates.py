"""Memory and compute estimators against published reference figures."""

import pytest

from lifecycle.selection.advisor import VOCABULARY, AdvisorInput, advise
from lifecycle.selection.catalog import custom_model, load_catalog
from lifecycle.selection.compute import GPUS, chinchilla_tokens, estimate_training
from lifecycle.selection.memory import (
    EstimateError,
    Workload,
    devices,
    estimate,
    fit_verdict,
    kv_cache_gib,
    lora_trainable,
    weights_gib,
)

LLAMA2 = "meta-llama/Llama-2-7b-hf"


@pytest.mark.parametrize(
    ("precision", "published_gib"),
    [("fp32", 25.1), ("fp16/bf16", 12.6), ("int8", 6.3), ("int4", 3.1)],  # HF accelerate estimator
)
def test_weights_within_5_percent_of_accelerate_figures(precision, published_gib):
    got = weights_gib(6_740_000_000, precision)
    assert abs(got - published_gib) / published_gib < 0.05


def test_training_with_adam_is_four_times_fp32_weights_before_activations():
    model = load_catalog()[LLAMA2]
    rows = {r.precision: r for r in estimate(model, Workload(context=1, batch=1))}
    assert rows["fp32"].full_finetune == pytest.approx(4 * rows["fp32"].weights, rel=0.01)
    assert rows["int8"].full_finetune is None and rows["int4"].full_finetune is None


def test_kv_cache_uses_grouped_query_heads():
    catalog = load_catalog()
    llama2 = catalog[LLAMA2]  # 32 layers, 32 kv heads x 128: 0.5 MiB per token in fp16
    assert kv_cache_gib(llama2, 4096, 1, "fp16/bf16") == pytest.approx(2.0)
    llama3 = catalog["meta-llama/Llama-3.1-8B-Instruct"]  # 8 kv heads: a quarter of that
    assert kv_cache_gib(llama3, 4096, 1, "fp16/bf16") == pytest.approx(0.5)
    assert kv_cache_gib(catalog["bert-base-uncased"], 512, 8, "fp32") == 0


def test_lora_trainable_parameters_match_peft_for_smollm2():
    smol = load_catalog()["HuggingFaceTB/SmolLM2-135M-Instruct"]
    # peft reports 1,843,200 trainable parameters for r=16 on q/k/v/o_proj (1.84M).
    assert lora_trainable(smol, 16) == 1_843_200


def test_qlora_fits_where_full_fine_tuning_does_not():
    rows = {r.precision: r for r in estimate(load_catalog()[LLAMA2], Workload(context=2048))}
    t4 = next(d for d in devices() if d.name == "T4")
    assert fit_verdict(rows["fp16/bf16"].full_finetune, t4) == "no"
    assert fit_verdict(rows["int4"].lora, t4) == "fits"
    assert fit_verdict(None, t4) == "n/a"


@pytest.mark.parametrize(
    ("work", "message"),
    [
        (Workload(context=0), "context"),
        (Workload(batch=0), "batch"),
        (Workload(lora_rank=0), "rank"),
    ],
)
def test_impossible_workloads_are_refused(work, message):
    with pytest.raises(EstimateError, match=message):
        estimate(load_catalog()[LLAMA2], work)


@pytest.mark.parametrize("params", [0, -5])
def test_non_positive_parameters_are_refused(params):
    model = custom_model(1_000_000)
    bad = type(model)(**{**model.__dict__, "params": params})
    with pytest.raises(EstimateError, match="positive"):
        estimate(bad, Workload())


def test_custom_model_looks_like_a_decoder_of_its_size():
    model = custom_model(7_000_000_000)
    assert model.hidden_size == 4096 and 25 <= model.layers <= 40


def test_chinchilla_compute_arithmetic():
    assert chinchilla_tokens(1e9) == 20e9
    est = estimate_training(1e9, 20e9, GPUS["A100 80GB"], utilisation=0.5, gpus=10)
    assert est.flops == pytest.approx(6 * 1e9 * 20e9)  # C = 6 N D
    hours = 1.2e20 / (312e12 * 0.5) / 3600
    assert est.gpu_hours == pytest.approx(hours)
    assert est.cost_usd == pytest.approx(hours * 2.00)
    assert est.calendar_days == pytest.approx(hours / 10 / 24)


def test_advisor_reuses_by_default_and_pretrains_only_when_justified():
    assert advise(AdvisorInput(params_b=7)).decision == "reuse a base model"
    rare = AdvisorInput(
        params_b=1, vocabulary=VOCABULARY[2], domain_tokens=1e11, budget_usd=1e6, time_weeks=52
    )
    assert advise(rare).decision == "pre-train from scratch"
    poor = AdvisorInput(
        params_b=7, vocabulary=VOCABULARY[2], domain_tokens=1e9, budget_usd=1e4, time_weeks=4
    )
    advice = advise(poor)
    assert advice.decision == "continue pre-training"
    assert any(r.startswith("Budget") for r in advice.reasons)


def test_advisor_refuses_impossible_inputs():
    with pytest.raises(ValueError, match="size"):
        advise(AdvisorInput(params_b=0))
