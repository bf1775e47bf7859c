"""Align page, the collected preferences: counts, table, delete, the seed set, TRL download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.alignment.ui import VERDICTS, short, side_label
from components.project import flash
from components.resources import get_store
from components.state import Keys
from lifecycle.alignment.preferences import (
    Preference,
    counts,
    delete_preference,
    load_seed,
    save_preference,
    to_trl_jsonl,
)


def preferences_ui(project_id: str, prefs: list[Preference]) -> None:
    """Counts, the table, delete, the seed set and the TRL download."""
    c = counts(prefs)
    m = st.columns(4)
    m[0].metric("Preferences", len(prefs))
    m[1].metric("Usable pairs (A or B)", c["usable"])
    m[2].metric("Ties", c["tie"])
    m[3].metric("Both bad", c["both_bad"])
    seed = load_seed()
    have = {p.id for p in prefs}
    missing = [p for p in seed if p.id not in have]
    st.button(
        f"Add the seed set ({len(seed)} pairs written for this app)",
        icon=":material/library_add:",
        disabled=not missing,
        on_click=_add_seed,
        args=(project_id, missing),
    )
    if not prefs:
        st.info("No preference yet: judge a pair above or add the seed set.")
        return
    st.dataframe(preferences_table(prefs), hide_index=True, width="stretch")
    by_id = {p.id: p for p in prefs}
    doomed = st.multiselect(
        "Delete preferences",
        list(by_id),
        key=Keys.ALIGN_DELETE,
        format_func=lambda i: short(by_id[i].prompt, 60),
    )
    st.button(
        "Delete selected",
        icon=":material/delete:",
        disabled=not doomed,
        on_click=_delete,
        args=(project_id, doomed),
    )
    download_ui(prefs)


def preferences_table(prefs: list[Preference]) -> pd.DataFrame:
    """One row per preference, newest first."""
    rows = [
        {
            "task": p.task,
            "input": short(p.prompt, 80),
            "chosen (or A)": p.chosen if p.usable else p.a.text,
            "rejected (or B)": p.rejected if p.usable else p.b.text,
            "verdict": VERDICTS.get(p.choice, p.choice),
            "reason": p.reason,
            "sides": "seed set"
            if p.a.model_ref == "seed"
            else f"{side_label(p.a)} vs {side_label(p.b)}",
        }
        for p in reversed(prefs)
    ]
    return pd.DataFrame(rows)


def _add_seed(project_id: str, missing: list[Preference]) -> None:
    store = get_store()
    for pref in missing:
        save_preference(store, project_id, pref)
    flash(f"Added {len(missing)} seed preferences.")


def _delete(project_id: str, ids: list[str]) -> None:
    store = get_store()
    for pref_id in ids:
        delete_preference(store, project_id, pref_id)
    st.session_state[Keys.ALIGN_DELETE] = []
    flash(f"Deleted {len(ids)} preference(s).")


def download_ui(prefs: list[Preference]) -> None:
    """The usable pairs as TRL JSONL (prompt / chosen / rejected)."""
    chat = st.checkbox(
        "Conversational form (the whole chat, for a chat model's template)",
        key=Keys.ALIGN_CHAT_EXPORT,
    )
    export = to_trl_jsonl(prefs, conversational=chat)
    st.download_button(
        "Download as TRL JSONL",
        export.text,
        file_name="preferences_chat.jsonl" if chat else "preferences.jsonl",
        mime="application/jsonl",
        icon=":material/download:",
        disabled=not export.rows,
    )
    st.caption(f"{export.summary} Format: one `prompt`/`chosen`/`rejected` object per line.")
