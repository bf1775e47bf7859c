"""Present mode's screens: each stage's sentence and chart come from the records, or say so."""

from __future__ import annotations

from lifecycle.deploy.measure import VariantReport, load_measurements
from lifecycle.overview import overview
from lifecycle.present import screens
from lifecycle.scope import Scope
from lifecycle.stages import STAGES
from lifecycle.store import Store


def _store(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    return store, store.create_project("Present")


def test_an_empty_project_is_seven_screens_not_started_without_evidence(tmp_path):
    store, p = _store(tmp_path)
    deck = screens(overview(store, p.id))
    assert [s.stage for s in deck] == [s.id for s in STAGES]
    assert {s.state for s in deck} <= {"not started", "not needed"}
    assert all(s.evidence == "" and not s.decisions for s in deck)
    assert deck[0].sentence.startswith("Not started.") and deck[0].next.page == "scope"


def test_runs_and_measurements_make_the_sentences(tmp_path):
    store, p = _store(tmp_path)
    store.put_record(p.id, "scope", Scope("summarization").to_dict())
    for run_id, method, state, loss in (
        ("ft-a", "lora", "completed", 1.25),
        ("ft-b", "lora", "completed", 0.9),
        ("ft-c", "dpo", "running", None),
    ):
        data = {"id": run_id, "method": method, "state": state, "base_ref": "embedded:x"}
        store.put_record(
            p.id, "finetune_run", {**data, "eval_loss": loss} if loss else data, run_id
        )
    store.put_record(p.id, "preference", {"id": "p1", "choice": "a"}, "p1")
    reports = {
        "run:ft-b": [
            VariantReport("fp32", tokens_per_s=12.0, quality={"rougeL": 0.5}, quality_key="rougeL"),
            VariantReport(
                "int8", tokens_per_s=24.5, quality={"rougeL": 0.48}, quality_key="rougeL"
            ),
            VariantReport("merged", error="no adapter"),
        ]
    }
    data = {"ref": "run:ft-b", "reports": [r.to_dict() for r in reports["run:ft-b"]]}
    store.put_record(p.id, "deploy_measurement", data, "run:ft-b")
    measured = load_measurements(store, p.id)
    by_stage = {s.stage: s for s in screens(overview(store, p.id), measured)}
    adapt, align, deploy = by_stage["adapt"], by_stage["align"], by_stage["deploy"]
    assert adapt.sentence == "2 of 2 fine-tune runs completed; best validation loss 0.900 (ft-b)."
    assert adapt.evidence == "loss"
    assert align.sentence == "1 preference pair judged; 0 of 1 DPO run completed."
    assert align.evidence == "dpo"
    assert deploy.sentence.startswith("2 variants measured; fastest: int8 at 24.5 tokens/s")
    assert deploy.evidence == "deploy"
    assert by_stage["evaluate"].state == "not started" and by_stage["evaluate"].evidence == ""


def test_a_measured_collection_makes_the_infrastructure_screen(tmp_path):
    from components.report.present import evidence
    from lifecycle.decision_records import save_rag_quality

    store, p = _store(tmp_path)
    chunks = {"unit": "tokens", "size": 200, "overlap": 20}
    save_rag_quality(store, p.id, "c1", "Starter guides", 3, [1, 1, 0, 2, 1, 3, 1, 1, 0, 1], chunks)
    ov = overview(store, p.id)
    infra = screens(ov)[-1]
    assert infra.stage == "infrastructure" and infra.state != "not started"
    assert infra.sentence.startswith("1 collection measured; Starter guides: hit@3 0.80 [")
    assert "on 10 questions" in infra.sentence and infra.evidence == "retrieval"
    figure = evidence(infra.evidence, ov, {})
    assert [bar.name for bar in figure.data] == ["Starter guides"]
    assert figure.data[0].y == (0.8,)
