"""Stage 1, Scope: pick the task from the task table, answer the scope questions, see why."""

import streamlit as st

from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.project import require_project
from components.records import save_record, sync_record
from components.scope.cards import render_stage_needs, render_task_card
from components.state import Keys
from lifecycle.needs import stage_needs
from lifecycle.scope import QUESTIONS, TIMELINE_WEEKS, Scope, ScopeAnswers, band_models, task_card
from lifecycle.selection.catalog import load_catalog
from lifecycle.tasks import ARCHITECTURES, load_tasks, search_tasks

LABELS = {
    "input_modality": "Input",
    "output_modality": "Output",
    "input_length": "Input length",
    "output_length": "Output length",
    "latency": "Latency need",
    "labelled_examples": "Labelled examples you have",
    "privacy": "Privacy",
    "budget": "Budget",
    "quality_bar": "Quality bar",
}
HELP = {  # the answers other pages check against, so the user sets them once, here
    "budget": "Compute budget: the build-or-reuse advice and the plan check against it.",
    "timeline_weeks": "The plan warns, with what to cut, when its stages take longer.",
    "labelled_examples": "A few hundred labels make training a small model the first step.",
}


def to_widgets(data: dict) -> dict:
    """Widget values for a saved scope record (tasks this app does not know are left out)."""
    scope, known = Scope.from_dict(data), load_tasks()
    values = {
        Keys.SCOPE_PRIMARY: scope.primary_task if scope.primary_task in known else None,
        Keys.SCOPE_SECONDARY: list(dict.fromkeys(t for t in scope.secondary_tasks if t in known)),
        Keys.SCOPE_WEEKS: scope.answers.timeline_weeks,
    }
    values.update({Keys.SCOPE_ANSWER + q: getattr(scope.answers, q) for q in QUESTIONS})
    return values


project = require_project()
tasks = load_tasks()
st.title("1 · Define the scope")
render_guide("scope")
sync_record(
    project.id, "scope", Scope().to_dict(), to_widgets, lambda d: Scope.from_dict(d).to_dict()
)

st.subheader("Which task will the model do?")
left, right = st.columns([3, 1])
query = left.text_input(
    "Search the task table", key=Keys.SCOPE_QUERY, placeholder="e.g. dialogue, entities, SQL"
)
arch = right.selectbox(
    "Suited architecture",
    ("",) + ARCHITECTURES,
    key=Keys.SCOPE_ARCH,
    format_func=lambda a: a or "any",
)
found = search_tasks(tasks, query, arch)
st.dataframe(
    [
        {
            "Task": t.name,
            "Description": t.description,
            "Best architecture": t.best_architecture().name,
            "Typical size": t.size_typical,
            "Metric": t.metrics[0].name,
        }
        for t in found
    ],
    hide_index=True,
    width="stretch",
)
if not found:
    st.info("No task matches this search; clear it to see all ten.")
chosen = st.session_state.get(Keys.SCOPE_PRIMARY)
options = [t.id for t in found] + (
    [chosen] if chosen and chosen not in {t.id for t in found} else []
)
left, right = st.columns(2)
primary = left.selectbox(
    "Primary task",
    options,
    key=Keys.SCOPE_PRIMARY,
    format_func=lambda t: tasks[t].name,
    placeholder="Choose a task",
)
secondary = right.multiselect(
    "Secondary tasks (optional)",
    list(tasks),
    key=Keys.SCOPE_SECONDARY,
    format_func=lambda t: tasks[t].name,
)

st.subheader("Scope questions")
cols = st.columns(3)
answers = {}
for i, (question, options_) in enumerate(QUESTIONS.items()):
    answers[question] = cols[i % 3].selectbox(
        LABELS[question], options_, key=Keys.SCOPE_ANSWER + question, help=HELP.get(question)
    )
answers["timeline_weeks"] = cols[0].slider(
    "Timeline (weeks)", *TIMELINE_WEEKS, key=Keys.SCOPE_WEEKS, help=HELP["timeline_weeks"]
)

scope = Scope(primary or "", tuple(t for t in secondary if t != primary), ScopeAnswers(**answers))
save_record(project.id, "scope", scope.to_dict(), to_widgets)

st.subheader("What your choice implies")
if not scope.primary_task:
    st.info("Choose a primary task to see its architecture, size, metric, ladder and risks.")
cards = [task_card(tasks[t], scope.answers) for t in scope.task_ids]
for i, card in enumerate(cards):
    render_task_card(card, "Primary" if i == 0 else "Secondary", band_models(card, load_catalog()))
if cards:
    st.subheader("What each stage needs")
    st.caption("Home, the plan and the report show the same; the plan schedules the needed ones.")
    render_stage_needs(stage_needs(scope, cards))

render_next("scope")
