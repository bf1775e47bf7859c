"""The model catalogue on the Model selection page: filters (tasks, size band, licence), table."""

from __future__ import annotations

import streamlit as st

from components.state import Keys
from lifecycle.scope import Scope, TaskCard, in_scope
from lifecycle.selection.catalog import ModelSpec, filter_models

SORTS = {
    "Size": "params",
    "Context": "context_length",
    "Licence": "licence",
    "Released": "released",
}


def catalogue_panel(
    catalog: dict[str, ModelSpec], scope: Scope, cards: list[TaskCard]
) -> list[ModelSpec]:
    """Filters (scoped tasks, scoped size band, licence), the table; returns the shown models."""
    scoped = bool(scope.task_ids)
    c1, c2, c3, c4 = st.columns(4)
    for_tasks = c1.toggle(
        "Only models for my scoped tasks",
        value=scoped,
        key=Keys.MODEL_FOR_TASKS,
        disabled=not scoped,
    )
    in_band = c2.toggle(
        "Only sizes in my scoped band", value=scoped, key=Keys.MODEL_IN_BAND, disabled=not scoped
    )
    commercial = c3.toggle("Commercial use allowed", key=Keys.MODEL_COMMERCIAL)
    sort = c4.selectbox("Sort by", list(SORTS), key=Keys.MODEL_SORT)
    models = filter_models(catalog, scope.task_ids if for_tasks else (), commercial_only=commercial)
    if in_band and cards:
        models = [m for m in models if in_scope(m, cards)]
        bands = "; ".join(
            f"{c.task.name}: " + ", ".join(f"{b.architecture} {b.label}" for b in c.bands)
            for c in cards
        )
        st.caption(f"Sizes inside your scoped bands ({bands}).")
    catalogue_table(models, sort)
    return models


def catalogue_table(models: list[ModelSpec], sort: str) -> None:
    """The filtered catalogue as a sortable table."""
    rows = sorted(models, key=lambda m: getattr(m, SORTS[sort]))
    st.dataframe(
        [
            {
                "Model": m.name,
                "Hub id": m.id,
                "Params (B)": round(m.params_b, 3),
                "Architecture": m.architecture,
                "Context": m.context_length,
                "Licence": m.licence,
                "Commercial": m.licence_commercial,
                "Released": m.released,
                "Offline": "embedded" if m.embedded else "",
                "Notes": m.notes,
            }
            for m in rows
        ],
        hide_index=True,
        width="stretch",
    )
