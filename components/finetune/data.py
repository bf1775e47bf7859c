"""Fine-tune data: a shipped training split or an uploaded CSV/JSONL mapped to instructions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import streamlit as st

from components.project import flash
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from components.uploads import set_choice_ui, task_ui, uploaded_rows_ui
from lifecycle.evaluation.datasets import Example, columns, load_shipped, shipped_index
from lifecycle.finetune.data import DataError, training_examples
from lifecycle.tasks import load_tasks
from lifecycle.text import md_escape
from lifecycle.uploads import TRAIN_SET, list_sets, save_set


@dataclass(frozen=True)
class TrainingData:
    """The examples picked for training, with what the run records about them."""

    name: str
    task_id: str
    examples: tuple[Example, ...]
    set_id: str = ""  # the shipped set (its test split evaluates the run); empty for uploads

    @property
    def hash(self) -> str:
        """Content hash (lineage: which data a run learnt from)."""
        body = json.dumps([[e.input, e.output] for e in self.examples], ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def data_ui(project_id: str, scoped_task: str = "") -> TrainingData:
    """A shipped training split or an uploaded set (CSV/JSONL mapped to instruction format)."""
    uploaded = {f"upload:{k}": u for k, u in list_sets(get_store(), project_id, TRAIN_SET).items()}
    shipped = {f"shipped:{d['id']}": f"{d['name']} (train split)" for d in shipped_index()}
    pick = set_choice_ui(
        "Training data",
        Keys.FT_SOURCE,
        shipped,
        uploaded,
        "train",
        lambda: _upload_form(project_id, scoped_task),
    )
    if pick in uploaded:
        up = uploaded[pick]
        return TrainingData(up.name, up.task_id, up.examples)
    key = pick.split(":", 1)[1]
    shipped_set = load_shipped(key, "train")
    return TrainingData(shipped_set.name, shipped_set.task_id, shipped_set.examples, key)


def _upload_form(project_id: str, scoped_task: str) -> None:
    upload = uploaded_rows_ui(
        Keys.FT_UPLOAD,
        "Columns such as instruction/input/output or prompt/completion, or a `messages` "
        "column of chat turns ({role, content}); the last assistant turn is the answer.",
    )
    if upload is None:
        return
    name, ident, rows = upload
    cols = columns(rows)
    guess_mapping(ident, cols, list(load_tasks()), scoped_task)
    fmt = st.radio(
        "Format",
        ["columns", "messages"],
        horizontal=True,
        key=Keys.FT_UP + "format",
        format_func={"columns": "Input column(s) → output", "messages": "Chat messages"}.get,
    )
    c1, c2 = st.columns(2)
    if fmt == "columns":
        inputs = c1.multiselect("Input column(s), joined", cols, key=Keys.FT_UP + "in")
        output = c2.selectbox("Output column", cols, key=Keys.FT_UP + "out")
        messages = ""
    else:
        inputs, output = [], ""
        messages = c1.selectbox("Messages column", cols, key=Keys.FT_UP + "messages")
    task_id = task_ui("Task (its prompt kit frames every example)", Keys.FT_UP + "task")
    mapping = (rows, fmt, inputs, output, messages)
    # A callback runs before the page is drawn again: only then may it pick the new set in the
    # "Training data" selectbox above (setting a drawn widget's key raises).
    st.button(
        "Add this training set",
        key=Keys.FT_UP + "add",
        on_click=_add_set,
        args=(project_id, name, task_id, mapping),
    )
    problem = st.session_state.pop(Keys.FT_UP_ERROR, None)
    if problem:
        show_error(problem)


def guess_mapping(ident: str, cols: list[str], tasks: list[str], scoped_task: str) -> None:
    """Fill the mapping widgets with guesses for a new file (and for any left undrawn).

    The guesses are set as the widgets' values rather than passed as defaults: the browser
    keeps a widget's last value for its key, so a second file would show the first one's
    columns (no longer among its options) until the values are set from here.
    """
    new_file = st.session_state.get(Keys.FT_UP + "file") != ident
    guesses = {
        "format": "columns",
        "in": [c for c in ("instruction", "input", "prompt") if c in cols] or cols[:1],
        "out": next((c for c in ("output", "completion", "response") if c in cols), cols[-1]),
        "messages": next((c for c in cols if c == "messages"), cols[0]),
        "task": scoped_task if scoped_task in tasks else tasks[0],  # the project's scoped task
    }
    for field, value in guesses.items():
        if new_file or Keys.FT_UP + field not in st.session_state:
            st.session_state[Keys.FT_UP + field] = value
    st.session_state[Keys.FT_UP + "file"] = ident


def _add_set(project_id: str, name: str, task_id: str, mapping: tuple) -> None:
    """Save the mapped rows and make them the training data (a button callback)."""
    try:
        examples = training_examples(*mapping)
    except DataError as err:
        st.session_state[Keys.FT_UP_ERROR] = str(err)
        return
    data = TrainingData(name, task_id, tuple(examples))
    save_set(get_store(), project_id, TRAIN_SET, data.hash, name, task_id, examples)
    st.session_state[Keys.FT_SOURCE] = f"upload:{data.hash}"
    flash(f"Added {len(examples)} rows from {md_escape(name)}; it is now the training data.")
