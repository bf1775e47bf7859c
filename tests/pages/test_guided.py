"""The guided path in the app: a tracker in every page's sidebar, a start on Home, Next links."""

from __future__ import annotations

from lifecycle.scope import Scope

from .helpers import goto


def links(at, where=None) -> list[str]:
    """The labels of the page links in the main area (or the sidebar)."""
    root = at.sidebar if where == "sidebar" else at.main
    return [e.value for e in root.get("page_link")]


def test_without_a_project_home_says_where_to_start(make_app):
    at = make_app()
    assert "Start here" in at.caption[0].value
    assert links(at, "sidebar") == []  # no tracker without a project


def test_a_new_project_shows_every_stage_not_started_and_starts_at_scope(make_app, project):
    at = make_app()
    tracker = links(at, "sidebar")
    assert len(tracker) == 7
    assert tracker[0] == "1 Define scope: not started"
    assert all(t.endswith(("not started", "not needed")) for t in tracker)
    assert any(label.startswith("Start here: 1 Scope.") for label in links(at))


def test_every_stage_page_has_the_tracker_and_scope_ends_with_next(make_app, project, store):
    store.put_record(project.id, "scope", Scope("summarization").to_dict())
    at = goto(make_app(), "app_pages/scope.py")
    assert links(at, "sidebar")[0] == "1 Define scope: decided"
    assert links(at)[-1].startswith("Next: 2 Model selection. ")
    at = goto(at, "app_pages/home.py")
    assert any(label.startswith("Carry on: 2 Model selection.") for label in links(at))
