"""Deploy page: a tuned run's GGUF variants offered and shown beside the torch ones."""

from __future__ import annotations

import json
import shutil

import pytest

from components.state import Keys
from lifecycle.deploy import gguf, gguf_variants
from lifecycle.deploy.measure import VariantReport, save_measurements
from lifecycle.deploy.variants import LABELS
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.runs import RunStatus, write_status
from lifecycle.store import now

from .helpers import goto

PAGE = "app_pages/deploy.py"
RUN = "ft-gguf-page"


@pytest.fixture(autouse=True)
def hub_off(monkeypatch):
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)


def finished_run(home, project_id, model_folder) -> str:
    """A completed full fine-tune run of the tiny model (the picker lists it)."""
    folder = home / "runs" / RUN
    shutil.copytree(model_folder, folder / "final")
    config = FinetuneConfig().to_dict()
    meta = {"id": RUN, "project_id": project_id, "config": config, "dataset": {}}
    (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    write_status(folder, RunStatus(state="completed", created_at=now(), updated_at=now()))
    return f"run:{RUN}"


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
    make_app, home, store, project, tiny_causal, monkeypatch
):
    monkeypatch.setattr(gguf_variants, "ready", lambda: True)  # listing needs no llama.cpp
    ref = finished_run(home, project.id, tiny_causal)
    built = gguf.run_gguf_folder(RUN) / gguf.gguf_name("Q4_K_M")
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
