"""Issue 16 on Evaluate: the slice is kept, verdicts agree with their intervals, copying shows."""

from __future__ import annotations

import pytest

from components.state import Keys
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.runs import Candidate, continue_run, start_run
from lifecycle.models import GenerationResult, GenParams
from lifecycle.prompting import PromptSpec

from .helpers import goto, rerun, texts

PAGE = "app_pages/evaluate.py"
OTHER_PAGE = "app_pages/rag.py"


@pytest.fixture
def at(make_app, project):
    return goto(make_app(), PAGE)


def test_the_slice_survives_leaving_the_page_and_a_restart(at, make_app, store, project):
    at = rerun(at.slider(key=Keys.EVAL_LIMIT).set_value(10))
    at = goto(at, "app_pages/plan.py")
    at = goto(at, PAGE)
    assert at.slider(key=Keys.EVAL_LIMIT).value == 10  # it went back to 20
    again = goto(make_app(), PAGE)  # a new session: after a restart
    assert again.slider(key=Keys.EVAL_LIMIT).value == 10
    assert store.get_record(project.id, "evaluate").data["limits"] == {"dialogue_summaries": 10}
    # Another set keeps its own slice; coming back restores this one's.
    again = rerun(again.selectbox(key=Keys.EVAL_SHIPPED).set_value("entities"))
    assert again.slider(key=Keys.EVAL_LIMIT).value == 20
    again = rerun(again.selectbox(key=Keys.EVAL_SHIPPED).set_value("dialogue_summaries"))
    assert again.slider(key=Keys.EVAL_LIMIT).value == 10


def test_opening_the_page_saves_nothing(at, store, project):
    assert store.get_record(project.id, "evaluate") is None


def _run(store, project, label: str, answer):
    """A finished run on the first 12 summaries, answering each input with answer(input)."""
    evalset = load_shipped("dialogue_summaries").head(12)
    cand = Candidate(label, "fake:model", PromptSpec(), GenParams())
    run = start_run(store, project.id, cand, evalset)
    return continue_run(
        store, project.id, run, evalset, lambda text: GenerationResult(text=answer(text))
    )


def test_a_win_by_copying_is_warned_about_beside_the_metric(make_app, store, project):
    _run(store, project, "terse", lambda text: "No summary.")
    _run(store, project, "pasted", lambda text: text)  # the dialogue itself: ROUGE rewards it
    at = goto(make_app(), PAGE)
    at = rerun(at.slider(key=Keys.EVAL_LIMIT).set_value(12))
    tables = [d.value for d in at.dataframe if "Mostly copied outputs" in d.value.columns]
    assert tables, [list(d.value.columns) for d in at.dataframe]
    copied = dict(zip(tables[0]["Candidate"], tables[0]["Mostly copied outputs"]))
    assert copied == {"terse": "0/12", "pasted": "12/12"}
    assert any(v.startswith("B (pasted) is better on ROUGE") for v in texts(at.success))
    [warning] = [w for w in texts(at.warning) if "may win by copying" in w]
    assert warning.startswith("B (pasted) may win by copying: 100% of its words")
