"""Bind a page's widgets to one saved record: load, save at once, and resolve tab conflicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.store import ConflictError, StoreError

ToWidgets = Callable[[dict], dict[str, Any]]


def _loaded(kind: str) -> dict | None:
    return st.session_state[Keys.LOADED].get(kind)


def _remember(kind: str, project_id: str, revision: int, data: dict) -> None:
    st.session_state[Keys.LOADED][kind] = {
        "project": project_id,
        "revision": revision,
        "data": data,
        "like": (_loaded(kind) or {}).get("like", {}),  # widget defaults, for fit_widgets
    }


def _widgets_unchanged(kind: str, to_widgets: ToWidgets) -> bool:
    loaded = _loaded(kind)
    expected = to_widgets(loaded["data"]) if loaded else {}
    return all(st.session_state.get(k, v) == v for k, v in expected.items())


def fit_widgets(values: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """Widget values of the type each widget has by default; a wrongly typed one is replaced.

    Ranges and options are the typed readers' job (`dataclass_from` with LIMITS); this is the
    net under every page, so a saved "12" never reaches a number input.
    """
    fitted = {}
    for key, value in values.items():
        default = like.get(key)
        if default is None:  # no default to compare with (e.g. no task chosen yet)
            fitted[key] = value
        elif isinstance(default, float) and type(value) is int:
            fitted[key] = float(value)
        elif isinstance(value, type(default)) and isinstance(value, bool) == isinstance(
            default, bool
        ):
            fitted[key] = value
        else:
            fitted[key] = default
    return fitted


def sync_record(
    project_id: str,
    kind: str,
    defaults: dict,
    to_widgets: ToWidgets,
    normalise: Callable[[dict], dict] = lambda data: data,
) -> dict:
    """Call before drawing the widgets: fill them from the saved record (or newer tab's save)."""
    record = get_store().get_record(project_id, kind)
    loaded = _loaded(kind)
    stale = loaded is None or loaded["project"] != project_id
    newer = record is not None and loaded is not None and record.revision != loaded["revision"]
    like = to_widgets(defaults)
    if stale or (newer and _widgets_unchanged(kind, to_widgets)):
        data = normalise(record.data) if record else defaults  # viewing alone never re-saves
        _remember(kind, project_id, record.revision if record else 0, data)
        st.session_state.update(fit_widgets(to_widgets(data), like))
    else:  # widgets of a page not shown in the last run were dropped by Streamlit: restore them
        for key, value in fit_widgets(to_widgets(_loaded(kind)["data"]), like).items():
            st.session_state.setdefault(key, value)
    _loaded(kind)["like"] = like
    return _loaded(kind)["data"]


def save_record(project_id: str, kind: str, data: dict, to_widgets: ToWidgets) -> None:
    """Call after reading the widgets: save at once when something changed."""
    loaded = _loaded(kind)
    if loaded is None or data == loaded["data"]:
        st.session_state[Keys.CONFLICTS].pop(kind, None)
        return
    try:
        record = get_store().put_record(
            project_id, kind, data, expected_revision=loaded["revision"]
        )
    except ConflictError as err:
        st.session_state[Keys.CONFLICTS][kind] = data
        _conflict_panel(project_id, kind, str(err), to_widgets)
        return
    except StoreError as err:
        show_error(err)
        return
    st.session_state[Keys.CONFLICTS].pop(kind, None)
    _remember(kind, project_id, record.revision, record.data)


def _conflict_panel(project_id: str, kind: str, message: str, to_widgets: ToWidgets) -> None:
    st.warning(f"{message} Your latest change is **not saved yet**. Which version do you keep?")
    left, right = st.columns(2)
    left.button(
        "Keep mine (overwrite the other)",
        key=Keys.CONFLICT_KEEP + kind,
        on_click=_keep_mine,
        args=(project_id, kind),
    )
    right.button(
        "Load the other version",
        key=Keys.CONFLICT_LOAD + kind,
        on_click=_load_theirs,
        args=(project_id, kind, to_widgets),
    )


def _keep_mine(project_id: str, kind: str) -> None:
    data = st.session_state[Keys.CONFLICTS].pop(kind)
    record = get_store().put_record(project_id, kind, data)
    _remember(kind, project_id, record.revision, record.data)


def _load_theirs(project_id: str, kind: str, to_widgets: ToWidgets) -> None:
    st.session_state[Keys.CONFLICTS].pop(kind, None)
    like = (_loaded(kind) or {}).get("like", {})
    record = get_store().get_record(project_id, kind)
    if record:
        _remember(kind, project_id, record.revision, record.data)
        st.session_state.update(fit_widgets(to_widgets(record.data), like))
