"""Self-consistent advice: all 10 tasks under every combination of the answers that change it.

Table-driven over tasks x (quality bar, latency, labelled data, privacy, budget), and
hypothesis over whole projects (tasks, answers, timeline, model, advisor) for the stage statuses
that Home, the Plan page and the report show.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.ladder import LABELS_TO_TRAIN, PROMPTING, STATUSES, TRAINING, suits
from lifecycle.needs import NEEDS, stage_needs
from lifecycle.overview import overview, stage_states
from lifecycle.plan import derive_durations
from lifecycle.report import markdown_report
from lifecycle.scope import QUESTIONS, Scope, ScopeAnswers, band_models, task_card
from lifecycle.selection.catalog import load_catalog
from lifecycle.stages import STAGES
from lifecycle.store import Store
from lifecycle.tasks import TASK_IDS, load_tasks

CHANGING = ("quality_bar", "latency", "labelled_examples", "privacy", "budget")
METRIC = {  # what each task of the seed table is measured by first
    "chatbot": "human_rating",
    "essay_writing": "human_rating",
    "summarization": "rouge",
    "translation": "bleu",
    "code_generation": "pass_at_k",
    "information_retrieval": "exact_match",
    "ner": "f1",
    "external_data_api": "exact_match",
    "fine_tuning": "accuracy",
    "language_understanding": "accuracy",
}
GLANCE_ROW = re.compile(r"^\| (\d) \| ([^|]+) \| ([^|]+) \| (.*) \| (\d+) \|$")


def every_answer():
    """Each combination of the answers that change advice (600 of them)."""
    for values in itertools.product(*(QUESTIONS[q] for q in CHANGING)):
        yield ScopeAnswers(**dict(zip(CHANGING, values)))


def check_card(card, answers: ScopeAnswers, catalog) -> None:
    """Everything one task card must agree on, with the answers in every message."""
    where = f"{card.task.id} under {answers}"
    arch = card.architecture.name
    assert card.bands[0].architecture == arch, where
    assert card.bands[0].low <= card.bands[0].high, where
    assert card.architecture.fit in ("best", "good"), where
    assert band_models(card, catalog), f"no {arch} catalogue model in {card.size.name}: {where}"
    statuses = [r.status for r in card.ladder]
    assert set(statuses) <= set(STATUSES) and statuses.count("start") == 1, where
    start = card.start_rung
    assert suits(arch, start), f"{arch} cannot start on {start}: {where}"
    labelled = answers.level("labelled_examples") >= LABELS_TO_TRAIN
    assert start not in TRAINING or labelled, f"training before there are labels: {where}"
    for rung in card.ladder:
        if rung.step in PROMPTING and card.ladder.index(rung) < card.ladder.index(card.rung(start)):
            assert rung.status == "baseline", where  # kept as a baseline, never "skip"
    if card.task.band(arch).needs_labels:
        assert labelled, f"{arch} needs labels the project does not have: {where}"
    assert card.metric.name == METRIC[card.task.id], where
    assert card.metric in card.task.metrics, where


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_answer_gives_a_populated_band_and_a_ladder_that_suits_the_architecture(task_id):
    task, catalog = load_tasks()[task_id], load_catalog()
    for answers in every_answer():
        check_card(task_card(task, answers), answers, catalog)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_the_plan_schedules_exactly_the_stages_the_scope_needs(task_id):
    task = load_tasks()[task_id]
    for answers in every_answer():
        scope = Scope(task_id, (), answers)
        cards = [task_card(task, answers)]
        needs = stage_needs(scope, cards)
        durations = derive_durations(scope, cards, params_b=1.0)
        for stage in STAGES:
            need, planned = needs[stage.id], durations[stage.id]
            assert need.need in NEEDS and planned.need == need.need
            assert (planned.days > 0) == (need.need == "needed"), (stage.id, answers)
        align = {"plan": "needed", "if needed": "if needed", "not needed": "not needed"}
        assert needs["align"].need == align[cards[0].rung("rlhf").status]


ANSWER = st.fixed_dictionaries(
    {q: st.sampled_from(QUESTIONS[q]) for q in QUESTIONS} | {"timeline_weeks": st.integers(1, 104)}
)
MODELS = st.sampled_from(["", *sorted(load_catalog())])


def glance(report: str) -> dict[str, tuple[str, str, int]]:
    """{stage title: (need, progress, days)} from the report's "Decisions at a glance" table."""
    rows = {}
    for line in report.splitlines():
        match = GLANCE_ROW.match(line)
        if match:
            rows[match[2]] = (match[3], match[4].replace("\\", ""), int(match[5]))
    return rows


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    tasks=st.lists(st.sampled_from(TASK_IDS), min_size=0, max_size=3, unique=True),
    answers=ANSWER,
    model=MODELS,
    advised=st.booleans(),
)
def test_home_plan_and_report_agree_on_every_stage(tasks, answers, model, advised):
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "db.sqlite")
        project = store.create_project("Agreement")
        scope = Scope(tasks[0] if tasks else "", tuple(tasks[1:]), ScopeAnswers(**answers))
        store.put_record(project.id, "scope", scope.to_dict())
        if model or advised:
            store.put_record(project.id, "model", {"model_id": model, "advisor": {}})
        ov = overview(store, project.id)
        states = stage_states(ov)  # what Home draws (components/guide/stage_map.py)
        rows = {r.stage: r for r in ov.plan}  # what the Plan page's table shows
        report = glance(markdown_report(ov))
    for stage in STAGES:
        state = states[stage.id]
        assert rows[stage.id].need == state.need and rows[stage.id].days == state.days
        assert report[stage.title] == (state.need, state.progress, state.days)
        assert "days planned" not in state.progress and "skipped" not in state.progress
    untouched = ("adapt", "align", "evaluate", "deploy", "infrastructure")
    assert all(states[s].progress == "not started" for s in untouched)
    assert (states["scope"].progress == "not started") == (not tasks)
    assert (states["model_selection"].progress == "not started") == (not model)
    if ov.fit and not ov.fit.fits:
        assert ov.fit.problems and "Does not fit the scope" in markdown_report(ov)
