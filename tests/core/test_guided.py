"""The guided path: the tracker's states come from the records only; Next walks the stages."""

from __future__ import annotations

from lifecycle.guided import PAGE_STAGE, decided, next_step, track
from lifecycle.overview import overview
from lifecycle.scope import Scope, ScopeAnswers
from lifecycle.store import Store

MODEL = {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "advisor": {"budget_usd": 5000.0}}


def _ov(tmp_path, scope=None, model=None):
    store = Store(tmp_path / "db.sqlite")
    p = store.create_project("Guided")
    if scope:
        store.put_record(p.id, "scope", scope.to_dict())
    if model:
        store.put_record(p.id, "model", model)
    return overview(store, p.id)


def walk(ov, start="scope") -> list[str]:
    """The pages reached by following Next from `start` until the plan."""
    pages, page = [start], start
    while page != "plan":
        page = next_step(ov, page).page
        assert page not in pages, pages  # never a loop
        pages.append(page)
    return pages


def test_an_empty_project_is_not_started_everywhere_and_starts_at_scope(tmp_path):
    ov = _ov(tmp_path)
    assert set(track(ov).values()) <= {"not started", "not needed"}
    assert track(ov)["scope"] == "not started"
    assert decided(ov) == set()
    assert next_step(ov).page == "scope"
    assert next_step(ov, "evaluate").page == "scope"  # nothing else is useful without a task


def test_a_scope_and_a_model_are_decided_and_next_skips_them(tmp_path):
    ov = _ov(tmp_path, Scope("summarization"), MODEL)
    states = track(ov)
    assert states["scope"] == states["model_selection"] == "decided"
    assert states["evaluate"] == "not started"
    assert next_step(ov).page == "playground"
    assert next_step(ov, "scope").page == "playground"


def test_following_next_from_scope_reaches_the_plan_through_every_needed_stage(tmp_path):
    ov = _ov(tmp_path, Scope("summarization"))
    pages = walk(ov)
    assert pages[:3] == ["scope", "model_selection", "playground"]
    assert {"evaluate", "deploy", "rag", "plan"} <= set(pages)
    assert all(p in PAGE_STAGE for p in pages)


def test_fine_tuning_is_on_the_path_only_when_the_ladder_plans_it(tmp_path):
    plain = _ov(tmp_path, Scope("summarization"))
    rich = Scope("chatbot", answers=ScopeAnswers(labelled_examples="over 10k"))
    tuned = _ov(tmp_path / "b", rich)
    assert "finetune" not in walk(plain)
    assert "finetune" in walk(tuned)


def test_a_stage_the_scope_does_not_need_is_marked_and_skipped(tmp_path):
    ov = _ov(tmp_path, Scope("summarization"))
    states = track(ov)
    skipped = [stage for stage, state in states.items() if state == "not needed"]
    for stage in skipped:
        assert all(PAGE_STAGE[p] != stage for p in walk(ov))
