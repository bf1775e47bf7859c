"""Present mode: one screen per stage, previous / next through all seven, nothing invented."""

from __future__ import annotations

import re

from components.state import Keys
from lifecycle.scope import Scope
from lifecycle.stages import STAGES
from lifecycle.text import md_escape

from .helpers import goto, rerun

MODEL = {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "advisor": {"budget_usd": 5000.0}}
HOSTILE = "![x](https://evil.example/?q=1)"


def unescape(text: str) -> str:
    """A sentence as read on screen (md_escape's backslashes dropped)."""
    return re.sub(r"\\(.)", r"\1", text)


def walk(at) -> list:
    """Press Next through the deck; each screen's (title, header, subheaders, charts)."""
    shown = []
    for i, stage in enumerate(STAGES):
        assert at.title[0].value == f"{stage.number} · {stage.title}"
        assert at.button(key=Keys.PRESENT_PREV).disabled == (i == 0)
        assert at.button(key=Keys.PRESENT_NEXT).disabled == (i == len(STAGES) - 1)
        charts = len(at.get("plotly_chart"))
        shown.append((at.header[0].value, [s.value for s in at.subheader], charts))
        if i < len(STAGES) - 1:
            at = rerun(at.button(key=Keys.PRESENT_NEXT).click())
    return shown


def test_an_empty_project_is_not_started_everywhere_with_no_figures(make_app, project):
    at = goto(make_app(), "app_pages/present.py")
    assert not at.main.text_input and not at.main.selectbox and not at.main.number_input
    for header, subheaders, charts in walk(at):
        assert unescape(header).startswith(("Not started.", "Not needed for this scope")), header
        assert charts == 0
        assert subheaders[0].startswith(":gray[No evidence chart")
        assert subheaders[-1].startswith(("Next: ", "To start, open "))
    # And back: Previous from the last screen shows the one before
    at = rerun(at.button(key=Keys.PRESENT_PREV).click())
    assert at.title[0].value == f"{STAGES[-2].number} · {STAGES[-2].title}"


def test_a_started_project_shows_its_decisions_and_evidence(make_app, project, store):
    store.put_record(project.id, "scope", Scope("summarization").to_dict())
    store.put_record(project.id, "model", MODEL)
    run = {
        "id": "e1",
        "candidate": {"label": HOSTILE, "model_ref": "embedded:x"},
        "set_name": "tiny",
        "set_hash": "h",
        "task_id": "summarization",
        "total": 2,
        "metrics": ["rouge"],
        "status": "done",
        "scores": {"rougeL": 0.42},
        "per_example": {"rougeL": {"a": 0.4, "b": 0.44}},
    }
    store.put_record(project.id, "eval_run", run, "e1")
    decision = {
        "gate": "adopt",
        "stage": "adapt",
        "what": "Keep the best prompt",
        "proposal": "Adopt the tuned model",
        "proposed": "adopt-tuned",
        "chosen": "keep-prompt",
        "overridden": True,
        "reason": "the tuned model <b>invents</b> names",
        "decided_at": "2026-01-01T00:00:00",
    }
    store.put_record(project.id, "decision", decision, "adopt-1")
    at = goto(make_app(), "app_pages/present.py")
    shown = dict(zip((s.id for s in STAGES), walk(at)))
    assert unescape(shown["scope"][0]).startswith(
        "Conversation Summarization: encoder-decoder model"
    )
    assert shown["scope"][2] == 1  # the plan the scope implies
    header, _, charts = shown["model_selection"]
    assert "SmolLM2 135M Instruct" in unescape(header) and charts == 1  # memory
    header, _, charts = shown["evaluate"]
    assert "ROUGE-L 0.420" in unescape(header) and charts == 1  # scores with their intervals
    assert md_escape(HOSTILE) in header  # the label shown as typed, its image never fetched
    made = [unescape(s) for s in shown["adapt"][1] if s.startswith("Decision")]
    assert made == [
        "Decision: Keep the best prompt (overrode “Adopt the tuned model”: "
        "the tuned model <b>invents</b> names)"
    ]
    assert unescape(shown["deploy"][0]).startswith("Not started") and shown["deploy"][2] == 0
    # Back to the first screen with Previous.
    for _ in STAGES[1:]:
        at = rerun(at.button(key=Keys.PRESENT_PREV).click())
    assert at.title[0].value == "1 · Define scope"
