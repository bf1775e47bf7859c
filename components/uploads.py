"""The one form for example sets (evaluation and training): a shipped set or an uploaded one,
and the upload: the file read into rows, its columns mapped by the page, the task."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.resources import uploaded_table
from components.untrusted import show_error
from lifecycle.evaluation.datasets import DatasetError
from lifecycle.tasks import load_tasks
from lifecycle.text import md_escape
from lifecycle.uploads import UploadedSet

FILE_TYPES = ["csv", "jsonl", "json"]


def set_choice_ui(
    label: str,
    key: str,
    shipped: dict[str, str],
    uploaded: dict[str, UploadedSet],
    use: str,
    upload_form: Callable[[], None],
) -> str:
    """The chosen set's option: a shipped one (option -> label) or an uploaded one, with the
    upload form below; uploads whose file is not in this data folder are named, not offered.

    `use` completes "Upload them again to ... on them" (evaluate, train).
    """
    names = {**shipped, **{k: f"Uploaded: {u.name}" for k, u in uploaded.items() if u.examples}}
    if st.session_state.get(key) not in names:  # e.g. a set whose file is missing
        st.session_state.pop(key, None)
    pick = st.selectbox(label, list(names), key=key, format_func=names.get)
    missing = [u.name for u in uploaded.values() if u.missing]
    if missing:
        st.caption(
            f"Not in this data folder (left out of an import): {md_escape(', '.join(missing))}. "
            f"Upload them again to {use} on them."
        )
    with st.expander(f"Upload your own {label.lower()} (CSV or JSONL)"):
        upload_form()
    return pick


def uploaded_rows_ui(key: str, hint: str = "") -> tuple[str, str, list[dict]] | None:
    """The uploaded file's name, identity and rows; None (the hint, or why the file cannot be
    read, in view) until a readable file is chosen."""
    upload = st.file_uploader("File", type=FILE_TYPES, key=key)
    if upload is None:
        if hint:
            st.caption(hint)
        return None
    try:
        rows = uploaded_table(upload.name, upload.getvalue())
    except DatasetError as err:
        show_error(err)
        return None
    return upload.name, f"{upload.file_id}:{upload.name}:{upload.size}", rows


def task_ui(label: str, key: str, container=st) -> str:
    """The task whose prompt kit the uploaded examples are read with."""
    tasks = load_tasks()
    return container.selectbox(label, list(tasks), format_func=lambda t: tasks[t].name, key=key)
