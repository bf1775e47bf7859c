"""Issue 16: Evaluate never contradicts itself, compares like with like, and measures copying."""

from __future__ import annotations

from lifecycle.evaluation.copying import copy_warning, copying, run_copying, summarise
from lifecycle.evaluation.datasets import EvalSet, Example
from lifecycle.evaluation.runs import Candidate, EvalRun, best_like_for_like
from lifecycle.evaluation.shots import curve_name
from lifecycle.evaluation.stats import Difference
from lifecycle.models import GenParams
from lifecycle.prompting import PromptSpec
from lifecycle.text import plural, short_time

DIALOGUE = (
    "alice: shall we meet at noon at the cafe near the station? "
    "bob: yes, noon works, and I will bring the report for the client meeting."
)


def test_the_verdict_states_the_winners_lead_with_an_interval_of_the_same_sign():
    verdict = Difference(-0.107, -0.216, -0.004, 20).verdict("A (0-shot)", "B (3-shot)", "rougeL")
    assert verdict.startswith("A (0-shot) is better on rougeL than B (3-shot) by 0.107")
    assert "95 % CI +0.004 to +0.216" in verdict
    ahead = Difference(0.05, 0.01, 0.09, 20).verdict("A", "B", "f1")
    assert "B is better on f1 than A by 0.050 (95 % CI +0.010 to +0.090" in ahead


def _run(label: str, set_hash: str, score: float, stamp: str, status: str = "done") -> EvalRun:
    cand = Candidate(label, "fake:model", PromptSpec(), GenParams())
    return EvalRun(
        label,
        cand,
        f"set {set_hash}",
        set_hash,
        "summarization",
        ("rouge",),
        10,
        scores={"rougeL": score},
        status=status,
        updated_at=stamp,
    )


def test_the_best_run_is_picked_among_runs_on_the_same_examples():
    runs = [
        _run("old slice", "first10", 0.9, "2026-01-01"),  # another slice: not comparable
        _run("zero-shot", "first20", 0.3, "2026-01-02"),
        _run("three-shot", "first20", 0.4, "2026-01-03"),
        _run("half done", "first20", 0.8, "2026-01-04", status="partial"),
    ]
    best, peers = best_like_for_like(runs)
    assert best.candidate.label == "three-shot"
    assert {p.candidate.label for p in peers} == {"zero-shot", "three-shot"}
    assert best_like_for_like([]) is None


def test_shots_curve_labels_name_one_shot_count():
    assert curve_name("Summarization prompt · 0-shot") == "Summarization prompt"
    assert curve_name("v1 · 0-shot · 1-shot") == "v1"
    assert curve_name("v1 · 2-shot (shots curve)") == "v1"


def test_a_copied_output_is_measured_as_copied():
    pasted = copying(DIALOGUE, "alice: shall we meet at noon at the cafe near the station?")
    assert pasted.copied == 1.0 and pasted.longest == 12
    summary = copying(DIALOGUE, "Alice and Bob agree to meet at noon; Bob brings the report.")
    assert summary.copied == 0.0 and summary.compression > 2
    assert copying(DIALOGUE, "").compression == 0.0


def test_a_lead_won_by_copying_is_warned_about_and_an_honest_one_is_not():
    copied = summarise([(DIALOGUE, DIALOGUE[:80])] * 3)
    honest = summarise([(DIALOGUE, "Alice and Bob meet at noon.")] * 3)
    warning = copy_warning("A (0-shot)", "B (3-shot)", copied, honest)
    assert "A (0-shot) may win by copying" in warning and "100%" in warning
    assert copy_warning("B (3-shot)", "A (0-shot)", honest, copied) == ""


def test_run_copying_pairs_predictions_with_their_inputs():
    evalset = EvalSet("s", "summarization", ("rouge",), (Example("e1", DIALOGUE, "ref"),))
    ex = evalset.examples[0]
    found = run_copying({ex.id: {"prediction": DIALOGUE}}, {ex.id: ex.input})
    assert found.copied == 1.0 and found.copies == 1 and found.n == 1
    assert run_copying({ex.id: {"prediction": DIALOGUE}}, {ex.id: ex.input}, set()).n == 0


def test_counts_and_times_read_as_people_write_them():
    assert plural(1, "row") == "1 row" and plural(2, "row") == "2 rows"
    assert plural(1200, "query", "queries") == "1,200 queries"
    assert short_time("2026-03-01T14:05:09.123456+00:00") == "2026-03-01 14:05:09"
    assert short_time("") == ""
