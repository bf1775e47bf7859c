"""Plan page: durations (derived and edited), dates, critical path, Gantt chart, exports."""

from __future__ import annotations

import json
from datetime import date

import pytest

from components.state import Keys

from .helpers import button, goto, rerun, texts

STAGES = [
    "Define scope",
    "Select a model",
    "Adapt",
    "Align",
    "Evaluate",
    "Deploy",
    "Infrastructure",
]
ADAPT = STAGES.index("Adapt")


@pytest.fixture
def at(make_app, project):
    """A session on the Plan page of the Demo project."""
    return goto(make_app(), "app_pages/plan.py")


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def duration(at) -> int:
    return int(metric(at, "Duration").removesuffix(" days"))


def days_column(at) -> list[int]:
    return list(at.data_editor[0].value["Days"])


def edit_days(at, row: int, days: int):
    """Type a number into the Days column of the duration editor, then rerun."""
    editor = at.data_editor[0]
    at.session_state[editor.key] = {
        "edited_rows": {row: {"Days": days}},
        "added_rows": [],
        "deleted_rows": [],
    }
    return rerun(at)


def test_without_a_project_it_points_to_home(make_app):
    at = goto(make_app(), "app_pages/plan.py")
    assert "Create a project on the Home page first" in at.info[0].value
    assert not at.metric


def test_metrics_critical_path_chart_and_downloads(at):
    assert metric(at, "Start") == f"{date.today():%d %b %Y}"
    assert metric(at, "End")
    assert duration(at) == 25  # the derived plan of an empty project
    [path] = [m.value for m in at.markdown if m.value.startswith("**Critical path:**")]
    assert path.startswith("**Critical path:** Define scope → Select a model → Adapt")
    [chart] = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    stages = [y for trace in spec["data"] for y in trace["y"]]
    assert sorted(stages) == sorted(STAGES)
    downloads = [d.label for d in at.get("download_button")]
    assert downloads == [
        "Download report (HTML, works offline)",
        "Download report (Markdown)",
        "Download plan and decisions (JSON)",
    ]
    preview = at.expander[0].markdown[0].value
    assert preview.startswith("# Demo: generative-AI project plan")
    assert list(at.data_editor[0].value["Stage"]) == STAGES


def test_a_saved_override_lengthens_the_plan(make_app, store, project):
    store.put_record(project.id, "plan", {"start_date": "2030-01-07", "overrides": {"adapt": 40}})
    at = goto(make_app(), "app_pages/plan.py")
    assert metric(at, "Start") == "07 Jan 2030"
    assert days_column(at)[ADAPT] == 40
    assert duration(at) == 25 + 30  # adapt is on the critical path: 10 -> 40 days
    assert store.get_record(project.id, "plan").revision == 1  # reading it writes nothing


def test_editing_a_duration_is_saved_and_moves_the_end(at, store, project):
    end_before = metric(at, "End")
    at = edit_days(at, ADAPT, 40)
    assert duration(at) == 55
    assert metric(at, "End") != end_before
    assert store.get_record(project.id, "plan").data["overrides"] == {"adapt": 40}
    at = rerun(at)  # the editor is rebuilt from the saved plan
    assert days_column(at)[ADAPT] == 40
    assert list(at.data_editor[0].value["Derived days"])[ADAPT] == 10


def test_an_impossible_duration_is_refused_with_a_message(at, store, project):
    at = edit_days(at, ADAPT, 0)
    assert texts(at.error) == ["Adapt: only Align and Infrastructure may be skipped (0 days)."]
    assert duration(at) == 25
    at = edit_days(at, ADAPT, 5000)
    assert texts(at.error) == ["Adapt: 5000 days is outside 0-730."]
    record = store.get_record(project.id, "plan")
    assert record is None or record.data["overrides"] == {}


def test_skipping_align_is_allowed(make_app, store, project):
    answers = {"quality_bar": "customer-facing"}  # a customer-facing chatbot plans alignment
    store.put_record(project.id, "scope", {"primary_task": "chatbot", "answers": answers})
    at = goto(make_app(), "app_pages/plan.py")
    align = STAGES.index("Align")
    assert days_column(at)[align] == 20
    assert list(at.data_editor[0].value["Need"])[align] == "needed"
    at = edit_days(at, align, 0)
    assert not at.error
    assert store.get_record(project.id, "plan").data["overrides"] == {"align": 0}
    at = rerun(at)
    assert days_column(at)[align] == 0


def test_reset_goes_back_to_the_derived_durations(make_app, store, project):
    store.put_record(project.id, "plan", {"start_date": "2030-01-07", "overrides": {"adapt": 40}})
    at = goto(make_app(), "app_pages/plan.py")
    assert duration(at) == 55
    at = rerun(button(at, "Reset to derived durations").click())
    assert duration(at) == 25
    assert days_column(at)[ADAPT] == 10
    data = store.get_record(project.id, "plan").data
    assert data == {"start_date": "2030-01-07", "overrides": {}}


def test_changing_the_start_date_moves_the_plan(at, store, project):
    at = rerun(at.date_input(key=Keys.PLAN_START).set_value(date(2031, 3, 3)))
    assert metric(at, "Start") == "03 Mar 2031"
    assert duration(at) == 25
    assert store.get_record(project.id, "plan").data["start_date"] == "2031-03-03"
    at = goto(goto(at, "app_pages/home.py"), "app_pages/plan.py")
    assert at.date_input(key=Keys.PLAN_START).value == date(2031, 3, 3)


def test_decisions_on_other_pages_change_the_durations(make_app, store, project):
    store.put_record(
        project.id,
        "scope",
        {"primary_task": "summarization", "secondary_tasks": ["ner", "translation"]},
    )
    at = goto(make_app(), "app_pages/plan.py")
    assert days_column(at)[0] == 5 + 2 * 2  # two extra tasks add two days each
    report = at.expander[0].markdown[0].value
    assert "Conversation Summarization" in report


def test_an_invalid_saved_duration_is_ignored_not_a_crash(make_app, store, project):
    store.put_record(project.id, "plan", {"overrides": {"scope": 0, "adapt": 40}})
    at = goto(make_app(), "app_pages/plan.py")
    assert texts(at.error) == []
    days = dict(zip(at.data_editor[0].value["Stage"], days_column(at)))
    assert days["Define scope"] == 5 and days["Adapt"] == 40


@pytest.mark.parametrize(
    "kind, data",
    [
        ("plan", {"overrides": {"adapt": 10**9}}),  # OverflowError in timedelta
        ("model", {"advisor": {"gpu": "no such GPU"}}),  # KeyError in GPUS
    ],
)
def test_odd_saved_values_do_not_crash_the_plan(make_app, store, project, kind, data):
    store.put_record(project.id, kind, data)  # as an imported export can contain
    goto(make_app(), "app_pages/plan.py")


def test_the_need_column_matches_the_scope_and_home(make_app, store, project):
    answers = {"quality_bar": "customer-facing"}  # summaries: alignment only if needed
    store.put_record(project.id, "scope", {"primary_task": "summarization", "answers": answers})
    at = goto(make_app(), "app_pages/plan.py")
    needs = dict(zip(at.data_editor[0].value["Stage"], at.data_editor[0].value["Need"]))
    assert needs["Align"] == "if needed" and needs["Adapt"] == "needed"
    assert days_column(at)[STAGES.index("Align")] == 0
    home = goto(at, "app_pages/home.py")
    badges = [m.value for m in home.markdown if "-badge[" in m.value]
    assert badges[:7] == [
        f":{'blue' if needs[s] == 'needed' else 'gray'}-badge[{needs[s]}]" for s in STAGES
    ]


def test_a_plan_longer_than_the_timeline_says_so_with_what_to_cut(make_app, store, project):
    answers = {"timeline_weeks": 2, "quality_bar": "customer-facing"}
    store.put_record(project.id, "scope", {"primary_task": "chatbot", "answers": answers})
    at = goto(make_app(), "app_pages/plan.py")
    [warning] = [w.value for w in at.warning if "does not fit" in w.value]
    assert "your scope allows 2 weeks" in warning
    assert "Leave preference tuning (Align) for a second release: saves" in warning
    report = at.expander[0].markdown[0].value
    assert "**Does not fit the scope.**" in report


def test_a_plan_within_the_timeline_says_it_fits(make_app, store, project):
    store.put_record(project.id, "scope", {"primary_task": "summarization", "answers": {}})
    at = goto(make_app(), "app_pages/plan.py")
    assert any("The plan fits your scope" in s.value for s in at.success)
