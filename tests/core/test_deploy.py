"""Deployment core on tiny models: variants, measurements, the what-if arithmetic and export."""

import os
from pathlib import Path

import pytest

from lifecycle.deploy.benchmark import measure_variants
from lifecycle.deploy.export import ExportExists, export_variant, serve_commands
from lifecycle.deploy.int8 import linear_names, outlier_ratios
from lifecycle.deploy.measure import (
    MeasureConfig,
    VariantReport,
    available_variants,
    load_measurements,
    save_measurements,
)
from lifecycle.deploy.variants import (
    DeployError,
    load_source,
    load_variant,
    memory_bytes,
    merge_lora,
    save_variant,
    to_bf16,
    to_int8,
    wrap,
)
from lifecycle.deploy.whatif import Traffic, WhatIfError, compare, what_if
from lifecycle.evaluation.datasets import EvalSet, Example
from lifecycle.models import GenParams, generate
from lifecycle.store import Store

MESSAGES = [
    {"role": "system", "content": "you are a helpful assistant ."},
    {"role": "user", "content": "one two three"},
]
GREEDY = GenParams(max_new_tokens=10)


@pytest.fixture(scope="module")
def lora_run(tiny_causal, tmp_path_factory):
    """A LoRA adapter folder on the tiny model with non-zero weights (so merging matters)."""
    import torch
    from peft import LoraConfig, get_peft_model

    model, _, _, _ = load_source(str(tiny_causal))
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)  # B starts at zero: without this the adapter is a no-op
    folder = tmp_path_factory.mktemp("lora-run")
    peft_model.save_pretrained(folder)
    return folder


def text_of(model, tokenizer) -> str:
    return generate(wrap("t", model, tokenizer, False, 0.0), MESSAGES, GREEDY).text


def test_int8_shrinks_the_model_and_reloads_from_safetensors(tiny_causal, tmp_path):
    model, tokenizer, _, _ = load_source(str(tiny_causal))
    fp32_bytes = memory_bytes(model)
    quantized = to_int8(model)
    assert memory_bytes(quantized) < 0.6 * fp32_bytes
    in_memory = text_of(quantized, tokenizer)
    assert in_memory  # still generates through the shared generate()

    folder = save_variant(quantized, tokenizer, "int8", tmp_path / "int8", str(tiny_causal))
    names = {p.name for p in folder.iterdir()}
    assert "int8_dynamic.safetensors" in names and "variant.json" in names
    assert not any(n.endswith((".bin", ".pt")) for n in names)  # no pickle on disk
    reloaded = load_variant(folder)
    assert memory_bytes(reloaded.model) == memory_bytes(quantized)
    assert generate(reloaded, MESSAGES, GREEDY).text == in_memory


def test_int8_keeps_layers_fed_by_outliers_in_fp32(tiny_causal):
    model, tokenizer, _, _ = load_source(str(tiny_causal))
    ratios = outlier_ratios(model, tokenizer)
    assert set(ratios) == set(linear_names(model)) and min(ratios.values()) >= 1
    threshold = sorted(ratios.values())[len(ratios) // 2]
    quantized = to_int8(model, tokenizer, max_ratio=threshold)
    kept = {name for name, ratio in ratios.items() if ratio > threshold}
    assert kept and set(linear_names(quantized)) == kept  # exactly the outlier-fed ones stay
    assert len(linear_names(to_int8(model))) == 0  # without calibration every Linear goes int8


def test_bf16_variant_halves_the_weights_and_generates(tiny_causal, tmp_path):
    import torch

    model, tokenizer, _, _ = load_source(str(tiny_causal))
    fp32_bytes = memory_bytes(model)
    folder = save_variant(to_bf16(model), tokenizer, "bf16", tmp_path / "bf16", "tiny")
    loaded = load_variant(folder)
    assert loaded.model.dtype == torch.bfloat16
    assert memory_bytes(loaded.model) == pytest.approx(fp32_bytes / 2, rel=0.05)
    assert generate(loaded, MESSAGES, GREEDY).completion_tokens == GREEDY.max_new_tokens
    plain = load_variant(tiny_causal)  # a folder without variant.json loads as fp32
    assert plain.model.dtype == torch.float32 and memory_bytes(plain.model) == fp32_bytes


def test_merged_lora_gives_the_adapter_output(lora_run, tiny_causal):
    import torch

    adapter, tokenizer, _, kind = load_source(str(lora_run))
    base, _, _, _ = load_source(str(tiny_causal))
    ids = torch.tensor([[5, 9, 12, 40, 7]])
    with torch.no_grad():
        unmerged = adapter(input_ids=ids).logits
        plain = base(input_ids=ids).logits
        merged_model = merge_lora(adapter)
        merged = merged_model(input_ids=ids).logits
    assert kind == "adapter" and not hasattr(merged_model, "peft_config")
    assert not torch.allclose(unmerged, plain, atol=1e-3)  # the adapter changes the output...
    assert torch.allclose(merged, unmerged, atol=1e-5)  # ...and merging keeps that change


def test_measure_reports_every_variant_of_a_lora_run(lora_run, tmp_path):
    evalset = EvalSet(
        "tiny",
        "summarization",
        ("rouge",),
        tuple(Example(str(i), "alice: hi bob !", "alice greets bob .") for i in range(3)),
    )
    steps = []
    reports = measure_variants(
        str(lora_run),
        evalset,
        config=MeasureConfig(examples=2, max_new_tokens=6),
        workdir=tmp_path / "work",
        on_step=lambda what, done: steps.append(done),
    )
    by_name = {r.name: r for r in reports}
    assert available_variants(str(lora_run)) == tuple(by_name)
    assert all(not r.error for r in reports)
    assert by_name["merged"].predictions == by_name["fp32"].predictions
    assert by_name["int8"].memory_bytes < by_name["merged"].memory_bytes
    assert by_name["bf16"].disk_bytes < by_name["merged"].disk_bytes
    assert by_name["fp32"].disk_bytes > by_name["merged"].disk_bytes * 0.9  # base + adapter
    assert all(r.tokens_per_s > 0 and r.ttft_s > 0 and r.examples == 2 for r in reports)
    assert by_name["int8"].quality_key == "rougeL" and "rougeL" in by_name["int8"].quality
    assert steps == sorted(steps) and steps[-1] == 1.0

    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("Deploy")
    save_measurements(store, project.id, str(lora_run), evalset.name, reports)
    assert load_measurements(store, project.id)[str(lora_run)] == reports


def test_unsupported_models_give_a_clear_deploy_error(tmp_path, tiny_causal):
    from transformers import GPT2Config, GPT2LMHeadModel

    from tests.tiny_models import tiny_tokenizer

    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=300, n_embd=16, n_layer=1, n_head=2))
    with pytest.raises(DeployError, match="Conv1D"):
        to_int8(gpt2)
    base, _, _, _ = load_source(str(tiny_causal))
    with pytest.raises(DeployError, match="no LoRA adapter"):
        merge_lora(base)
    gpt2.save_pretrained(tmp_path / "gpt2")
    tiny_tokenizer(chat=True).save_pretrained(tmp_path / "gpt2")
    reports = measure_variants(str(tmp_path / "gpt2"), _one_example(), names=("int8",))
    assert "Conv1D" in reports[0].error and not reports[0].folder


def _one_example() -> EvalSet:
    return EvalSet("one", "summarization", ("rouge",), (Example("1", "hi", "hello"),))


def test_what_if_arithmetic_on_exact_cases():
    # 1 request/s on average, 2 at peak, 2 s of machine time each: 4 machines, half used.
    traffic = Traffic(
        86_400, prompt_tokens=0, completion_tokens=100, peak_factor=2, cost_per_hour=1
    )
    result = what_if(50, traffic)
    assert result.seconds_per_request == 2 and result.machines == 4
    assert result.utilisation == 0.5 and result.peak_utilisation == 1.0
    assert result.cost_per_day == 96 and result.cost_per_1000 == pytest.approx(96 / 86.4)

    slow_prompt = Traffic(8_640, prompt_tokens=500, completion_tokens=50, peak_factor=1)
    fast_prefill = Traffic(8_640, 500, 50, 1, 2.0, prefill_tokens_per_s=1000)
    assert what_if(10, slow_prompt).seconds_per_request == 55  # prompt at the decode rate
    assert what_if(10, fast_prefill).seconds_per_request == 5.5
    assert what_if(10, fast_prefill).machines == 1  # at least one machine, even idle
    assert set(compare({"fp32": 10, "int8": 20, "failed": 0}, traffic)) == {"fp32", "int8"}


@pytest.mark.parametrize(
    "tps, traffic, message",
    [
        (0, Traffic(), "Tokens per second"),
        (10, Traffic(requests_per_day=0), "Requests per day"),
        (10, Traffic(completion_tokens=0), "at least 1 completion token"),
        (10, Traffic(prompt_tokens=-1), "Prompt tokens"),
        (10, Traffic(peak_factor=0.5), "peak factor"),
        (10, Traffic(cost_per_hour=-2), "cost per machine-hour"),
    ],
)
def test_what_if_refuses_impossible_inputs(tps, traffic, message):
    with pytest.raises(WhatIfError, match=message):
        what_if(tps, traffic)


def _report(folder, name="bf16") -> VariantReport:
    return VariantReport(
        name=name,
        label="bf16 (half the bytes)",
        folder=str(folder),
        disk_bytes=3 * 2**20,
        memory_bytes=2**20,
        load_s=0.5,
        ttft_s=0.12,
        tokens_per_s=42.5,
        quality={"rougeL": 0.4321},
        quality_key="rougeL",
        examples=10,
    )


def test_export_writes_a_self_contained_folder_and_guards_the_target(tiny_causal, tmp_path):
    model, tokenizer, _, _ = load_source(str(tiny_causal))
    built = save_variant(to_bf16(model), tokenizer, "bf16", tmp_path / "built", "tiny")
    target = export_variant(_report(built), tmp_path / "out" / "model", "tiny")
    names = {p.name for p in target.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= names
    text = (target / "README.md").read_text()
    assert "42.5 tokens/s" in text and "0.432" in text and f"vllm serve {target} " in text
    assert "text-generation-inference" in text
    assert generate(load_variant(target), MESSAGES, GREEDY).text  # loads from the export alone

    with pytest.raises(ExportExists, match="earlier Lifecycle export"):
        export_variant(_report(built), target, "tiny")
    (target / "stale.txt").write_text("old")
    export_variant(_report(built), target, "tiny", overwrite=True)
    assert not (target / "stale.txt").exists()

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DeployError, match="Cannot create"):
        export_variant(_report(built), blocker / "sub" / "model", "tiny")
    assert serve_commands(target, "int8") == {}


def test_export_into_a_read_only_folder_is_refused(tiny_causal, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    # Root may write anywhere, so the permission check is faked rather than chmod-ed.
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked)
    with pytest.raises(DeployError, match="not writable"):
        export_variant(_report(tiny_causal, "fp32"), locked / "model", "tiny")
    assert not any(locked.iterdir())  # nothing half-written
