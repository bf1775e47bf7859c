"""Scope consequences, the derived plan with its critical path, and the report."""

from datetime import date

import pytest

from lifecycle.overview import overview, stage_status
from lifecycle.plan import check_days, derive_durations, end_date, schedule
from lifecycle.report import markdown_report
from lifecycle.scope import Scope, ScopeAnswers, task_card
from lifecycle.stages import STAGES
from lifecycle.store import Store
from lifecycle.tasks import load_tasks

START = date(2027, 1, 4)


def _rows(scope=None, overrides=None):
    scope = scope or Scope("summarization")
    cards = [task_card(load_tasks()[t], scope.answers) for t in scope.task_ids]
    return schedule(derive_durations(scope, cards, params_b=0.135), overrides or {}, START)


def test_card_explains_architecture_size_metric_and_ladder():
    card = task_card(load_tasks()["summarization"], ScopeAnswers())
    assert card.architecture.name == "encoder-decoder" and card.architecture.why
    assert card.metric.name == "rouge"
    assert [r.status for r in card.ladder].count("start") == 1


def test_answers_change_the_consequences():
    task = load_tasks()["chatbot"]
    relaxed = task_card(task, ScopeAnswers(latency="batch (minutes are fine)", budget="$100k-1M"))
    strict = task_card(task, ScopeAnswers(latency="interactive (< 1 s)", budget="under $1k"))
    assert strict.size_range_b[1] <= 4 < relaxed.size_range_b[1]
    answers = ScopeAnswers(labelled_examples="over 10k", quality_bar="customer-facing")
    rich = task_card(task, answers)
    assert {r.step: r.status for r in rich.ladder}["peft"] == "plan"
    assert rich.rung("rlhf").status == "plan" and rich.top_rung == "full-fine-tune"
    private = task_card(task, ScopeAnswers(privacy="must stay on premises"))
    assert any("premises" in r.name for r in private.risks)


def test_scope_record_round_trips_and_ignores_garbage():
    scope = Scope("ner", ("translation",), ScopeAnswers(budget="over $1M", timeline_weeks=30))
    assert Scope.from_dict(scope.to_dict()) == scope
    odd = Scope.from_dict({"answers": {"budget": "a million", "timeline_weeks": -4}})
    assert odd.answers == ScopeAnswers()
    older = Scope.from_dict({"answers": {"budget": "over $100k", "quality_bar": ["x"]}})
    assert older.answers.budget == "$100k-1M"  # the old top band reads as the nearest new one


def test_stage_order_is_fixed_and_the_loop_overlaps():
    rows = {r.stage: r for r in _rows()}
    starts = [rows[s.id].start for s in STAGES]
    assert starts == sorted(starts)  # no stage starts before the one before it
    assert rows["evaluate"].start < rows["adapt"].end  # evaluation runs inside the adapt loop
    assert rows["evaluate"].end >= rows["adapt"].end
    assert rows["infrastructure"].start == rows["deploy"].start  # built beside deployment
    assert rows["deploy"].start == rows["evaluate"].end


def test_critical_path_and_end_date():
    rows = _rows()
    critical = [r.stage for r in rows if r.critical]
    assert critical[:3] == ["scope", "model_selection", "adapt"]
    assert "evaluate" in critical
    assert all(r.slack >= 0 for r in rows)
    total = sum(r.days for r in rows if r.stage in ("scope", "model_selection", "adapt"))
    assert (end_date(rows) - START).days > total  # the loop and deployment come after adapt


def test_overrides_move_the_end_date():
    base = end_date(_rows())
    assert end_date(_rows(overrides={"adapt": 40})) > base
    longer_infra = _rows(overrides={"infrastructure": 200})
    assert [r.stage for r in longer_infra if r.critical][-1] == "infrastructure"


def test_durations_follow_the_decisions():
    light = derive_durations(Scope("summarization"), [], params_b=0.1)
    heavy_scope = Scope("chatbot", answers=ScopeAnswers(quality_bar="safety-critical"))
    cards = [task_card(load_tasks()["chatbot"], heavy_scope.answers)]
    heavy = derive_durations(heavy_scope, cards, "pre-train from scratch", 70, pretrain_days=40)
    assert heavy["model_selection"].days == 70 and light["model_selection"].days == 5
    assert heavy["align"].days > 0 == light["align"].days
    assert heavy["deploy"].days > light["deploy"].days


@pytest.mark.parametrize(
    ("days", "problem"),
    [
        ({"adapt": -1}, "outside"),
        ({"adapt": 1000}, "outside"),
        ({"scope": 0}, "skipped"),
        ({"adapt": 2.5}, "whole number"),
    ],
)
def test_bad_durations_get_messages(days, problem):
    full = {s.id: 5 for s in STAGES} | days
    messages = check_days(full)
    assert len(messages) == 1 and problem in messages[0]
    assert check_days({s.id: 5 for s in STAGES} | {"align": 0}) == []


def test_report_collects_every_decision(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    p = store.create_project("Report | demo")
    store.put_record(p.id, "scope", Scope("summarization", ("ner",)).to_dict())
    store.put_record(
        p.id,
        "model",
        {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "advisor": {"budget_usd": 5000.0}},
    )
    ov = overview(store, p.id)
    assert stage_status(ov)["model_selection"] == "SmolLM2 135M Instruct"
    text = markdown_report(ov)
    for expected in (
        "Report \\| demo",
        "Conversation Summarization",
        "Named Entity Recognition",
        "reuse a base model",
        "SmolLM2 135M Instruct",
        "## Plan",
        "Critical path",
        "Exact: Weights, KV cache, LoRA trainable. Estimated: Inference",
        "| 4 | Align | if needed | not started | 0 |",
    ):
        assert expected in text, expected


def test_report_and_stage_map_show_prompt_versions_and_evaluations(tmp_path):
    from lifecycle.evaluation.datasets import EvalSet, Example
    from lifecycle.evaluation.runs import Candidate, continue_run, start_run
    from lifecycle.models import GenerationResult, GenParams
    from lifecycle.prompting import PromptSpec
    from lifecycle.versions import save_version

    store = Store(tmp_path / "db.sqlite")
    p = store.create_project("Lineage")
    store.put_record(p.id, "scope", Scope("summarization").to_dict())
    spec = PromptSpec.for_task(load_tasks()["summarization"], 3)
    save_version(store, p.id, "three-shot v1", "summarization", spec, GenParams(), "embedded:x")
    evalset = EvalSet("tiny set", "summarization", ("rouge",), (Example("a", "hi", "hello"),))
    cand = Candidate("three-shot v1", "embedded:x", spec, GenParams())
    run = start_run(store, p.id, cand, evalset)
    continue_run(
        store, p.id, run, evalset, lambda _: GenerationResult("hello", 1, 1, 0.1, 0.05, "eos")
    )
    ov = overview(store, p.id)
    status = stage_status(ov)
    assert status["adapt"].startswith("1 prompt version;") or status["adapt"] == "1 prompt version"
    assert status["evaluate"] == "1 run; best of 1 on tiny set: three-shot v1, ROUGE-L 1.000"
    text = markdown_report(ov)
    assert "## 3. Adapt: prompt versions" in text and "three\\-shot v1" in text
    assert "## 5. Evaluate" in text and evalset.hash in text and "ROUGE\\-L 1.000" in text


def test_infrastructure_shows_the_retrieval_measured_there(tmp_path):
    from lifecycle.decision_records import save_rag_quality

    store = Store(tmp_path / "db.sqlite")
    p = store.create_project("Retrieval")
    assert stage_status(overview(store, p.id))["infrastructure"] == "not started"
    save_rag_quality(store, p.id, "c1", "Policies", 4, [1, 0, 3, 5], {})
    status = stage_status(overview(store, p.id))["infrastructure"]
    assert status == "retrieval measured: Policies: hit@4 0.50 on 4 questions"
