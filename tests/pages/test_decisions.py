"""Decisions at the gates: a proposal from the project's runs, accepted or overridden on a page."""

from __future__ import annotations

import pytest

from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.decision_records import list_decisions
from lifecycle.decisions import RAG_QUALITY
from lifecycle.text import md_escape
from tests.conftest import link_embedded
from tests.evidence import save_evidence
from tests.fake_model import install

from .helpers import button, goto, rerun, texts

REASON = "Legal wants <b>no</b> training ![x](http://evil.example/x.png)"


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_a_project_without_evidence_gets_no_proposal(make_app, project):
    at = goto(make_app(), "app_pages/evaluate.py")
    captions = texts(at.caption)
    assert any(c.startswith("No proposal yet, nothing is assumed: Run the shots") for c in captions)
    assert not [b for b in at.button if b.key and b.key.startswith("decision_")]


def test_evaluate_proposes_and_the_user_accepts_one_and_overrides_another(make_app, project, store):
    save_evidence(store, project.id, tuned=True)
    at = goto(make_app(), "app_pages/evaluate.py")
    shown = markdown(at)
    assert f"Proposed: **{md_escape('Prompting has plateaued: try fine-tuning (LoRA).')}**" in shown
    # no fine-tune record: the run's method is not named
    assert md_escape("The tuned model beats the best prompt by +0.1") in shown
    assert md_escape("adopt the tuned model.") in shown

    at = rerun(at.button(key=Keys.DECISION_ACCEPT + "adapt").click())
    [accepted] = list_decisions(store, project.id)
    assert accepted["chosen"] == "fine-tune" and not accepted["overridden"]
    assert any(s.value.startswith("Accepted on ") for s in at.success)

    at.selectbox(key=Keys.DECISION_CHOICE + "adopt").set_value("tune-more")
    at = rerun(at.button(key=Keys.DECISION_OVERRIDE + "adopt").click())
    assert any("Say why you override" in e.value for e in at.error)
    assert len(list_decisions(store, project.id)) == 1  # nothing recorded without a reason

    at.text_area(key=Keys.DECISION_REASON + "adopt").input(REASON)
    at = rerun(at.button(key=Keys.DECISION_OVERRIDE + "adopt").click())
    overridden = list_decisions(store, project.id)[-1]
    assert overridden["overridden"] and overridden["chosen"] == "tune-more"
    assert overridden["proposed"] == "adopt-tuned" and overridden["reason"] == REASON
    [warning] = [w.value for w in at.warning if w.value.startswith("Overridden on")]
    assert md_escape(REASON) in warning and "](http" not in warning  # shown as typed

    at = goto(at, "app_pages/home.py")
    home = markdown(at)
    assert md_escape("Try fine-tuning (LoRA) on your examples") in home
    assert ":orange-badge[overridden]" in home and md_escape(REASON) in home


def test_the_fine_tune_page_asks_whether_to_adopt_the_tuned_run(make_app, project, store):
    save_evidence(store, project.id, tuned=True)
    at = goto(make_app(), "app_pages/finetune.py")
    assert md_escape("The tuned model beats the best prompt by +0.160 ROUGE-L") in markdown(at)
    at = rerun(at.button(key=Keys.DECISION_ACCEPT + "adopt").click())
    assert list_decisions(store, project.id)[0]["chosen"] == "adopt-tuned"


@pytest.mark.slow
def test_a_retrieval_measurement_is_kept_and_proposes_at_the_rag_gate(
    make_app, project, home, store, embedded_models
):
    link_embedded(embedded_models, home)
    install()  # the answering model: retrieval quality needs none that is real
    at = make_app()
    at.session_state[Keys.RAG_MODEL] = OTHER
    at.session_state[other_key(Keys.RAG_MODEL)] = "fake:model"
    at = goto(at, "app_pages/rag.py")
    assert any(c.startswith("No proposal yet") for c in texts(at.caption))
    at = rerun(at.slider(key=Keys.RAG_QUALITY + "_n").set_value(10))
    at = rerun(button(at, "Measure retrieval quality").click())
    [record] = store.list_records(project.id, RAG_QUALITY)
    assert record.data["k"] == 4 and len(record.data["ranks"]) == 10
    assert record.data["chunks"] == {"unit": "chars", "size": 800, "overlap": 100}
    assert "Proposed: **Retrieval hit@" in markdown(at)
    at = rerun(at.button(key=Keys.DECISION_ACCEPT + "retrieval").click())
    assert list_decisions(store, project.id)[0]["gate"] == "retrieval"


def test_the_deploy_gate_is_accepted_then_reconsidered(make_app, project, store):
    save_evidence(store, project.id)
    at = goto(make_app(), "app_pages/deploy.py")
    assert f"Proposed: **{md_escape('int8 keeps ROUGE-L within the interval')}" in markdown(at)
    at = rerun(at.button(key=Keys.DECISION_ACCEPT + "deploy").click())
    assert list_decisions(store, project.id)[0]["chosen"] == "int8"
    at = rerun(at.button(key=Keys.DECISION_REVISIT + "deploy_button").click())
    at.selectbox(key=Keys.DECISION_CHOICE + "deploy").set_value("fp32")
    at.text_area(key=Keys.DECISION_REASON + "deploy").input("The int8 kernels are missing on ARM")
    at = rerun(at.button(key=Keys.DECISION_OVERRIDE + "deploy").click())
    [decision] = list_decisions(store, project.id)  # the same evidence: decided again
    assert decision["chosen"] == "fp32" and decision["overridden"]
