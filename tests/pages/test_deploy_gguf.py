"""Deploy page: a tuned run's GGUF variants offered and shown beside the torch ones."""

from __future__ import annotations

import shutil
from functools import partial

import pytest

from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.deploy import gguf, gguf_variants
from lifecycle.deploy.gguf_jobs import build_job
from lifecycle.deploy.gguf_variants import picker_ref
from lifecycle.deploy.measure import VariantReport, save_measurements
from lifecycle.deploy.variants import LABELS
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.runs import list_eval_runs
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.runs import RunStatus, create_run, write_status
from lifecycle.store import now
from tests.conftest import link_embedded
from tests.tiny_models import save_lora

from .helpers import button, goto, rerun, texts

PAGE = "app_pages/deploy.py"
SET = "dialogue_summaries"
BUILD_WAIT_S = 900  # merge, convert and quantize a tiny model: seconds, minutes when busy
CANDIDATE_MODEL = Keys.EVAL_CANDIDATE + "__playground__model"  # Evaluate's candidate model


@pytest.fixture(autouse=True)
def hub_off(monkeypatch):
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)


def finished_run(store, project_id, final, **config) -> str:
    """A completed fine-tune run of the project (the pickers list it), trained on a few shipped
    dialogue summaries; `final(folder)` writes its model. Returns the run id."""
    rows = list(load_shipped(SET, "train").examples[:4])
    dataset = {"name": "Dialogue summaries", "set_id": SET}
    run = create_run(store, project_id, FinetuneConfig(**config), rows[:3], rows[3:], dataset)
    final(run.final_folder)
    write_status(run.folder, RunStatus(state="completed", created_at=now(), updated_at=now()))
    return run.id


def report(name: str, folder: str, tokens_per_s: float) -> VariantReport:
    return VariantReport(
        name=name,
        label=LABELS[name],
        folder=folder,
        disk_bytes=2**20,
        memory_bytes=2**20,
        tokens_per_s=tokens_per_s,
        quality={"rougeL": 0.2},
        quality_key="rougeL",
        examples=2,
    )


def test_a_runs_gguf_variants_are_offered_and_measured_beside_torch(
    make_app, store, project, tiny_causal, monkeypatch
):
    monkeypatch.setattr(gguf_variants, "ready", lambda: True)  # listing needs no llama.cpp
    copy = partial(shutil.copytree, tiny_causal)
    run_id = finished_run(store, project.id, copy, base_ref=str(tiny_causal), method="full")
    ref = f"run:{run_id}"
    built = gguf.run_gguf_folder(run_id) / gguf.gguf_name("Q4_K_M")
    built.parent.mkdir(parents=True)
    built.write_bytes(b"GGUF")  # the page lists it; nothing loads it here
    reports = [report("fp32", str(tiny_causal), 15.0), report("gguf-Q4_K_M", str(built), 110.0)]
    save_measurements(store, project.id, ref, "Dialogue summaries (test)", reports)

    at = make_app()
    at.session_state[Keys.DEPLOY_MODEL] = ref
    at = goto(at, PAGE)
    assert at.selectbox(key=Keys.DEPLOY_MODEL).value == ref
    variants = at.multiselect(key=Keys.DEPLOY_VARIANTS)
    assert list(variants.options)[-3:] == list(gguf_variants.NAMES)
    [results] = [d.value for d in at.dataframe if "disk (MiB)" in d.value.columns]
    assert list(results["variant"]) == ["fp32 (as trained)", "GGUF Q4_K_M (llama.cpp, 4-bit)"]
    assert list(results["tokens/s (median)"]) == [15.0, 110.0]
    assert "gguf-Q4_K_M" in at.selectbox(key=Keys.DEPLOY_EXPORT_VARIANT).options


def test_one_click_from_a_lora_run_to_an_evaluated_q4_k_m_listed_in_deploy(
    make_app, home, store, project, embedded_models, gguf_tiny, converter
):
    """The issue's flow: a completed LoRA run, the one build button, the Q4_K_M evaluated on the
    test split from Evaluate's picker, and Deploy listing the GGUF variants beside torch."""
    lora = partial(save_lora, gguf_tiny)
    run_id = finished_run(store, project.id, lora, base_ref=str(gguf_tiny), method="lora")
    ref = f"run:{run_id}"
    q4 = picker_ref(run_id, "Q4_K_M")
    link_embedded(embedded_models, home)  # any picker's default loads without a conversion

    at = make_app()
    at.session_state[Keys.FT_MODEL] = OTHER  # the tiny base, not the embedded default
    at.session_state[Keys.FT_MODEL_OTHER] = str(gguf_tiny)
    at = goto(at, "app_pages/finetune.py")
    at = rerun(at.button(key=Keys.DEPLOY_GGUF_BUILD + run_id).click())
    job = build_job(run_id)
    assert job.wait(BUILD_WAIT_S), f"still building after {BUILD_WAIT_S} s: {job.what}"
    assert not job.error, job.error
    at = rerun(at)
    assert any("Q4_K_M" in s for s in texts(at.success)), texts(at.success)
    version = at.selectbox(key=Keys.FT_CHECKPOINT + run_id)  # Try it, evaluate it: llama.cpp
    assert "Final model as GGUF Q4_K_M (llama.cpp)" in version.options

    test_split = load_shipped(SET, "test")
    at = goto(at, "app_pages/evaluate.py")
    at.slider(key=Keys.EVAL_LIMIT).set_value(len(test_split.examples))
    at = rerun(at.selectbox(key=CANDIDATE_MODEL).set_value(q4))
    at = rerun(button(at, "Evaluate this candidate").click())
    assert not at.error, texts(at.error)
    [run] = [r for r in list_eval_runs(store, project.id) if r.candidate.model_ref == q4]
    assert run.status == "done" and run.set_hash == test_split.hash
    assert len(run.predictions) == len(test_split.examples) and run.scores

    at.session_state[Keys.DEPLOY_MODEL] = ref
    at = goto(at, PAGE)
    options = list(at.multiselect(key=Keys.DEPLOY_VARIANTS).options)
    assert options == ["fp32", "merged", "bf16", "int8", *gguf_variants.NAMES]
    assert any("Q4_K_M" in s for s in texts(at.success))  # built: no second build button
    assert not [b for b in at.button if b.key == Keys.DEPLOY_GGUF_BUILD + run_id]


def test_variants_that_become_available_join_the_choice_and_removed_ones_stay_out(
    make_app, store, project, tiny_causal, monkeypatch
):
    """Switching from a model to a run kept the first model's three variants chosen: the run's
    GGUF variants (the issue's point) were offered but left out, unnoticed."""
    monkeypatch.setattr(gguf_variants, "ready", lambda: True)
    copy = partial(shutil.copytree, tiny_causal)
    run_id = finished_run(store, project.id, copy, base_ref=str(tiny_causal), method="full")

    at = make_app()
    at.session_state[Keys.DEPLOY_MODEL] = OTHER
    at.session_state[other_key(Keys.DEPLOY_MODEL)] = str(tiny_causal)
    at = goto(at, PAGE)
    box = at.multiselect(key=Keys.DEPLOY_VARIANTS)
    assert box.value == list(box.options) == ["fp32", "bf16", "int8"]  # all, by default
    at = rerun(box.unselect("int8"))

    at = rerun(at.selectbox(key=Keys.DEPLOY_MODEL).set_value(f"run:{run_id}"))
    box = at.multiselect(key=Keys.DEPLOY_VARIANTS)
    assert list(box.options) == ["fp32", "bf16", "int8", *gguf_variants.NAMES]
    assert box.value == ["fp32", "bf16", *gguf_variants.NAMES]  # new ones in, int8 still out
    at = rerun(at)
    assert at.multiselect(key=Keys.DEPLOY_VARIANTS).value == box.value  # and it stays
