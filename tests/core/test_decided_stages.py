"""A gate's decision marks its stage decided on the tracker and in the overview's status line."""

from __future__ import annotations

import pytest

from lifecycle.decision_records import decide, proposals
from lifecycle.guided import decided, overridden, track
from lifecycle.overview import overview, stage_states
from lifecycle.store import Store
from tests.evidence import save_evidence

UNTOUCHED = ("scope", "model_selection", "align")  # the evidence touches none of these


@pytest.fixture
def gated(tmp_path):
    """A project with evidence for every gate (scored runs, measurements, retrieval), undecided."""
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("Gated")
    save_evidence(store, project.id)
    return store, project.id


def test_evidence_alone_decides_nothing_at_a_gate_only_stage(gated):
    store, pid = gated
    states = track(overview(store, pid))
    assert states["infrastructure"] == "in progress"  # measured, not decided
    assert states["adapt"] == "not started"  # runs of the kit's prompt: no version saved
    assert all(states[s] == "not started" for s in UNTOUCHED)


def test_an_accepted_decision_marks_its_stage_decided(gated):
    store, pid = gated
    found = proposals(store, pid)
    decide(store, pid, found["retrieval"], found["retrieval"].proposed)
    decide(store, pid, found["adapt"], found["adapt"].proposed)
    ov = overview(store, pid)
    states, progress = track(ov), stage_states(ov)
    assert states["infrastructure"] == states["adapt"] == "decided"
    assert {"infrastructure", "adapt"} <= decided(ov) and not overridden(ov)
    assert progress["adapt"].progress == "decided: Try fine-tuning (LoRA) on your examples"
    line = progress["infrastructure"].progress
    assert line.startswith("retrieval measured: ") and line.endswith(
        "; decided: Keep this retrieval set-up and judge the answers"
    )
    assert all(states[s] == "not started" for s in UNTOUCHED)


def test_an_overridden_decision_marks_its_stage_decided_and_flags_the_override(gated):
    store, pid = gated
    proposal = proposals(store, pid)["retrieval"]
    assert proposal.proposed == "keep-retrieval"
    decide(store, pid, proposal, "add-documents", "The policies are not in the guides yet.")
    ov = overview(store, pid)
    assert track(ov)["infrastructure"] == "decided"
    assert overridden(ov) == {"infrastructure"}
    line = stage_states(ov)["infrastructure"].progress
    assert "decided (overridden): Add the documents the questions need" in line
    assert track(ov)["adapt"] == "not started" and "adapt" not in decided(ov)
    assert all(track(ov)[s] == "not started" for s in UNTOUCHED)


def test_the_latest_decision_of_a_gate_is_the_one_shown(gated):
    store, pid = gated
    proposal = proposals(store, pid)["retrieval"]
    decide(store, pid, proposal, "add-documents", "The policies are missing.")
    decide(store, pid, proposal, proposal.proposed)  # reconsidered: accepted after all
    ov = overview(store, pid)
    assert not overridden(ov) and track(ov)["infrastructure"] == "decided"
    assert "overridden" not in stage_states(ov)["infrastructure"].progress
