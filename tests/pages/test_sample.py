"""Home: "Open the sample project" opens a project whose stages are all started, its gates
decided but the one left for the demo, and builds the starter collection its retrieval figures
were measured on."""

from __future__ import annotations

import pytest

from components.state import Keys
from lifecycle.guided import track
from lifecycle.overview import overview, stage_states
from lifecycle.rag import VectorStore
from lifecycle.sample import SAMPLE_ID, has_collection
from lifecycle.text import md_escape

from .helpers import rerun, texts

STARTED = ("scope", "model_selection", "adapt", "align", "evaluate", "deploy", "infrastructure")
GATED = ("adapt", "deploy")  # each has its gate's proposal accepted
OPEN = "infrastructure"  # LEFT_OPEN: its proposal waits for the demo's Accept


@pytest.mark.slow
def test_open_the_sample_project_shows_its_stages_as_started(make_app, store):
    at = rerun(make_app().button(key=Keys.HOME_SAMPLE).click())
    [project] = store.list_projects()
    assert project.id == SAMPLE_ID
    assert f"Project: {md_escape(project.name)}" in texts(at.subheader)
    # Where its figures came from.
    assert any("any figure with the button" in i.value for i in at.info)
    ov = overview(store, SAMPLE_ID)
    states, tracked = stage_states(ov), track(ov)
    shown = texts(at.markdown)
    for stage in STARTED:
        assert states[stage].progress != "not started", stage
        assert md_escape(states[stage].progress) in shown, stage
    for stage in GATED:
        assert tracked[stage] == "decided" and "decided: " in states[stage].progress, stage
    assert tracked[OPEN] == "in progress"
    assert has_collection(VectorStore())  # built on this click, from the shipped guides
    again = rerun(at.button(key=Keys.HOME_SAMPLE).click())  # a second click reopens it
    assert len(store.list_projects()) == 1
    assert "reopened" in texts(again.toast)[-1]
