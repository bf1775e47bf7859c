"""Decisions from evidence: each gate's rule on hand-built records, and the decision record."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.decision_records import (
    MAX_REASON,
    current,
    decide,
    decision_for,
    list_decisions,
    proposals,
    summary_rows,
)
from lifecycle.decisions import (
    DECISION,
    GATES,
    DecisionError,
    deploy_variant,
    prompting_plateau,
    retrieval_gate,
    tuned_vs_prompt,
)
from lifecycle.deploy.measure import VariantReport
from lifecycle.schema import problem, repaired
from lifecycle.store import Store, StoreError
from lifecycle.transfer import export_bytes, export_project, import_project
from tests.evidence import curve, noisy, run, save_evidence, variant

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


# Gate "adapt": the shots curve --------------------------------------------------------------


def test_a_flat_shots_curve_proposes_fine_tuning_with_its_numbers():
    p = prompting_plateau(curve(0.30, 0.40, 0.45, 0.452))
    assert p.proposed == "fine-tune" and "plateaued" in p.what
    assert "from 3 to 5 examples" in p.why and "ROUGE-L" in p.why
    assert "0.01" in p.rule and "shots curve" in p.rule
    assert p.evidence == ("eval_run:c0", "eval_run:c1", "eval_run:c3", "eval_run:c5")
    assert set(p.alternatives) == set(GATES["adapt"].choices) - {"fine-tune"}


def test_a_rising_curve_proposes_to_keep_prompting():
    p = prompting_plateau(curve(0.30, 0.40, 0.50))
    assert p.proposed == "keep-prompting"
    assert "+0.100 from 1 to 3 examples" in p.why


def test_the_shots_gate_needs_three_counts_on_the_same_examples():
    assert prompting_plateau([]) is None
    assert prompting_plateau(curve(0.3, 0.4)) is None
    mixed = curve(0.3, 0.4, shots=(0, 1)) + curve(0.5, shots=(3,), set_hash="other-slice")
    assert prompting_plateau(mixed) is None  # another slice scores other examples
    partial = curve(0.3, 0.4, 0.41, status="partial")
    assert prompting_plateau(partial) is None
    tuned = curve(0.3, 0.4, 0.41, source="run:ft-1")
    assert prompting_plateau(tuned) is None  # a tuned model's shots are no prompting curve


# Gate "adopt": a tuned run against the best prompt --------------------------------------------


def test_a_tuned_run_that_beats_the_best_prompt_is_adopted_with_its_interval():
    runs = [
        run("p0", noisy(0.30), shots=0),
        run("p3", noisy(0.35), shots=3, stamp="2026-01-02"),
        run("t1", noisy(0.50), label="Tuned ft-1", source="run:ft-1", stamp="2026-01-03"),
    ]
    p = tuned_vs_prompt(runs, {"ft-1": "lora"})
    assert p.proposed == "adopt-tuned"
    assert p.what.startswith("LoRA fine-tuning beats the best prompt by +0.150 ROUGE-L [")
    assert "Summary prompt · 3-shot" in p.why and "n=20" in p.why
    assert p.evidence == ("eval_run:p3", "eval_run:t1")
    assert "paired-bootstrap" in p.rule


def test_a_tuned_runs_gguf_on_llama_cpp_counts_as_that_run():
    """A prompt version answered by llamacpp:run:<id>/Q4_K_M is the tuned run, quantized."""
    runs = [
        run("p0", noisy(0.30)),
        run("g1", noisy(0.50), label="Saved", model="llamacpp:run:ft-1/Q4_K_M", stamp="2026-01-02"),
    ]
    p = tuned_vs_prompt(runs, {"ft-1": "lora"})
    assert p.proposed == "adopt-tuned" and p.evidence == ("eval_run:p0", "eval_run:g1")


def test_a_tuned_run_within_noise_keeps_the_prompt():
    runs = [
        run("p0", noisy(0.40)),
        run("t1", noisy(0.405, seed=2), source="run:ft-1", stamp="2026-01-02"),
    ]
    p = tuned_vs_prompt(runs, {"ft-1": "full"})
    assert p.proposed == "keep-prompt" and "Full fine-tuning does not beat" in p.what


def test_the_adopt_gate_needs_both_kinds_on_enough_shared_examples():
    prompt, tuned = run("p", noisy(0.3)), run("t", noisy(0.6), source="run:ft-1")
    assert tuned_vs_prompt([prompt], {}) is None
    assert tuned_vs_prompt([tuned], {}) is None
    elsewhere = run("t", noisy(0.6), source="run:ft-1", set_hash="other")
    assert tuned_vs_prompt([prompt, elsewhere], {}) is None
    few = [run("p", noisy(0.3, n=5)), run("t", noisy(0.6, n=5), model="run:ft-1/final")]
    assert tuned_vs_prompt(few, {}) is None  # under MIN_PAIRS examples: nothing to call


# Gate "deploy": variants against fp32 ---------------------------------------------------------


def test_int8_within_the_interval_and_faster_is_proposed():
    base = noisy(0.30)
    reports = [
        variant("fp32", 16.0, base),
        variant("bf16", 12.0, base),
        variant("int8", 35.2, [s - 0.004 for s in base]),
    ]
    p = deploy_variant("embedded:smollm2", "k1", reports)
    assert p.proposed == "int8"
    assert p.what == "int8 keeps ROUGE-L within the interval at 2.2x the speed: deploy int8."
    assert "int8: ROUGE-L -0.004" in p.why and "(35.2 vs 16.0 tokens/s)" in p.why
    assert p.evidence == ("deploy_measurement:k1",)
    assert set(p.alternatives) == {"fp32", "bf16"}


def test_a_faster_variant_that_loses_quality_is_not_proposed():
    base = noisy(0.30)
    reports = [variant("fp32", 16.0, base), variant("int8", 30.0, [s - 0.1 for s in base])]
    p = deploy_variant("m", "k", reports)
    assert p.proposed == "fp32" and "deploy fp32" in p.what


def test_the_deploy_gate_needs_fp32_and_paired_scores():
    base = noisy(0.3)
    assert deploy_variant("m", "k", []) is None
    assert deploy_variant("m", "k", [variant("int8", 30.0, base)]) is None
    short = [variant("fp32", 16.0, base[:5]), variant("int8", 30.0, base[:5])]
    assert deploy_variant("m", "k", short) is None
    old = [VariantReport("fp32", tokens_per_s=16), VariantReport("int8", tokens_per_s=30)]
    assert deploy_variant("m", "k", old) is None  # an older record without per-example scores


# Gate "retrieval": hit@k ---------------------------------------------------------------------


def quality(hits: int, total: int = 20, k: int = 3) -> dict:
    ranks = [1] * hits + [0] * (total - hits)
    chunks = {"unit": "chars", "size": 800, "overlap": 100}
    return {"collection": "c", "label": "Guides", "k": k, "ranks": ranks, "chunks": chunks}


def test_a_low_hit_rate_proposes_revisiting_chunking():
    p = retrieval_gate(quality(8), "rq1")
    assert p.proposed == "revisit-chunking"
    assert p.what == "Retrieval hit@3 is 0.40: revisit chunking before blaming the model."
    assert "Guides (chunks of 800 chars, overlap 100)" in p.why and "20 questions" in p.why
    assert p.evidence == ("rag_quality:rq1",)


def test_a_good_hit_rate_keeps_retrieval_and_few_questions_propose_nothing():
    assert retrieval_gate(quality(16), "k").proposed == "keep-retrieval"
    assert retrieval_gate(quality(2, total=5), "k") is None


# From the store: proposals, decisions, export and import --------------------------------------


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "db.sqlite")


def test_an_empty_project_proposes_nothing(store):
    p = store.create_project("Empty")
    assert proposals(store, p.id) == dict.fromkeys(GATES)


def test_proposals_read_the_projects_own_records(store):
    p = store.create_project("P")
    save_evidence(store, p.id)
    found = proposals(store, p.id)
    assert found["adapt"].proposed == "fine-tune"
    assert found["deploy"].proposed == "int8"
    assert found["retrieval"].proposed == "keep-retrieval"  # 8 of 12 in the top 3
    assert found["adopt"] is None  # no tuned run evaluated


def test_accept_and_override_are_recorded_with_the_evidence(store):
    p = store.create_project("P")
    save_evidence(store, p.id)
    found = proposals(store, p.id)
    decide(store, p.id, found["adapt"], "fine-tune")
    with pytest.raises(DecisionError, match="Say why"):
        decide(store, p.id, found["deploy"], "fp32", "  \x00 ")
    with pytest.raises(DecisionError, match="not one of"):
        decide(store, p.id, found["deploy"], "int4", "why not")
    decide(store, p.id, found["deploy"], "fp32", "Legal wants\x07 the  unquantized model")
    first, second = list_decisions(store, p.id)
    assert first["chosen"] == first["proposed"] == "fine-tune" and not first["overridden"]
    assert first["evidence"] == list(found["adapt"].evidence)
    assert second["overridden"] and second["proposed"] == "int8" and second["chosen"] == "fp32"
    assert second["reason"] == "Legal wants the unquantized model"
    assert second["what"] == "Deploy fp32" and second["alternatives"] == ["fp32"]
    assert decision_for(store, p.id, found["deploy"])["chosen"] == "fp32"
    assert [d["gate"] for d in current(list_decisions(store, p.id))] == ["adapt", "deploy"]
    rows = summary_rows(list_decisions(store, p.id))
    assert rows[1]["overridden"] and rows[1]["proposed"] == "Deploy int8"
    json.dumps(rows)


def test_new_evidence_asks_again(store):
    p = store.create_project("P")
    save_evidence(store, p.id)
    before = proposals(store, p.id)["adapt"]
    decide(store, p.id, before, "fine-tune")
    newer = run("c7", noisy(0.6, seed=1), shots=7, stamp="2026-01-01T00:00:09")
    store.put_record(p.id, "eval_run", newer.to_dict(), key=newer.id)
    after = proposals(store, p.id)["adapt"]
    assert after.key != before.key and decision_for(store, p.id, after) is None


def test_a_reason_is_kept_short(store):
    p = store.create_project("P")
    save_evidence(store, p.id)
    decide(store, p.id, proposals(store, p.id)["adapt"], "rag", "x" * 5000)
    assert len(list_decisions(store, p.id)[0]["reason"]) == MAX_REASON


def test_decisions_and_their_evidence_survive_export_and_import(store, tmp_path):
    p = store.create_project("Decided")
    save_evidence(store, p.id)
    found = proposals(store, p.id)
    decide(store, p.id, found["adapt"], "keep-prompting", "The deadline is next week")
    decide(store, p.id, found["retrieval"], "keep-retrieval")
    other = Store(tmp_path / "other.sqlite")
    copy = import_project(other, export_bytes(store, p.id))
    assert list_decisions(other, copy.id) == list_decisions(store, p.id)
    assert proposals(other, copy.id) == found  # the evidence came along: the same proposals
    kinds = {r["kind"] for r in export_project(other, copy.id)["records"]}
    assert {"decision", "rag_quality"} <= kinds


def test_an_override_without_reason_is_refused_on_save_and_on_import(store):
    p = store.create_project("P")
    bad = {"gate": "deploy", "proposed": "int8", "chosen": "fp32", "overridden": True}
    bad["decided_at"] = "2026-01-01T00:00:00+00:00"
    assert "without a reason" in problem(DECISION, bad)
    with pytest.raises(StoreError, match="without a reason"):
        store.put_record(p.id, DECISION, bad, key="deploy:x")
    assert problem(DECISION, {**bad, "reason": "policy"}) is None


# The decision record's schema, fuzzed -------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
VALID = {
    "gate": "deploy",
    "stage": "deploy",
    "what": "Deploy fp32",
    "why": "measured",
    "rule": "r",
    "evidence": ["deploy_measurement:k"],
    "alternatives": ["int8"],
    "proposed": "int8",
    "chosen": "fp32",
    "overridden": True,
    "reason": "policy",
    "decided_at": "2026-01-01T00:00:00+00:00",
}


@st.composite
def decision_data(draw):
    """A valid decision with fields replaced by any JSON, dropped, or added."""
    data = dict(VALID)
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([*VALID, "extra"]))
        if draw(st.booleans()):
            data[name] = draw(json_values)
        else:
            data.pop(name, None)
    return data


@FUZZ
@given(decision_data())
def test_any_decision_record_is_checked_read_and_imported_or_refused(data):
    found = problem(DECISION, data)
    assert found is None or isinstance(found, str)
    if found is None:
        summary_rows([data])  # what the reports read from it
    fixed = repaired(DECISION, data)
    assert fixed is None or problem(DECISION, fixed) is None
    doc = {
        "format": "lifecycle-project",
        "schema_version": 1,
        "project": {"name": "Fuzzed"},
        "records": [{"kind": DECISION, "key": "deploy:x", "data": data}],
    }
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "db.sqlite")
        try:
            project = import_project(store, json.dumps(doc).encode())
        except StoreError as err:
            assert found and str(err)
            return
        assert found is None
        assert list_decisions(store, project.id)[0]["chosen"] == data["chosen"]


@FUZZ
@given(st.text(max_size=60), st.sampled_from(["fine-tune", "keep-prompting", "rag", "x"]))
def test_deciding_with_any_reason_records_or_refuses_clearly(reason, chosen):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "db.sqlite")
        p = store.create_project("P")
        proposal = prompting_plateau(curve(0.3, 0.4, 0.4))
        try:
            record = decide(store, p.id, proposal, chosen, reason)
        except DecisionError as err:
            assert str(err)
            return
        assert problem(DECISION, record.data) is None
        assert record.data["overridden"] == (chosen != "fine-tune")


def test_the_reports_carry_the_decisions_with_overrides_flagged(store):
    from components.report.html import html_report
    from lifecycle.overview import overview
    from lifecycle.report import markdown_report
    from lifecycle.report_summary import summary

    p = store.create_project("Reported")
    empty = overview(store, p.id)
    assert summary(empty)["decisions"] == []
    assert "No decision recorded yet" in html_report(empty, [], {})
    save_evidence(store, p.id)
    found = proposals(store, p.id)
    hostile = "<script>alert(1)</script> ![x](http://evil.example/x.png)"
    decide(store, p.id, found["adapt"], "fine-tune")
    decide(store, p.id, found["deploy"], "fp32", hostile)
    ov = overview(store, p.id)
    s = summary(ov)
    assert [d["overridden"] for d in s["decisions"]] == [False, True]
    assert s["decisions"][1]["reason"] == hostile and s["decisions"][1]["proposed"] == "Deploy int8"
    json.dumps(s)
    md = markdown_report(ov)
    assert "## Decisions from evidence" in md and "**overridden**" in md
    assert hostile not in md and "](http" not in md
    html = html_report(ov, [], {})
    assert '<tr class="overridden">' in html and "<script>alert" not in html
    assert "Try fine-tuning (LoRA) on your examples; Deploy fp32 (overridden)" in html
