"""AppTest fixtures: a fresh data folder per test and helpers to drive the multipage app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lifecycle.store import Project, Store

ROOT = Path(__file__).resolve().parents[2]

TIMEOUT = 300  # seconds per script run (generous: the first run imports plotly and pandas)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh LIFECYCLE_HOME (harmless next to a top-level fixture that also sets one)."""
    path = tmp_path / "pages-home"
    monkeypatch.setenv("LIFECYCLE_HOME", str(path))
    return path


@pytest.fixture
def store(home) -> Store:
    """The same SQLite file the app writes, opened independently to check what it saved."""
    return Store(home / "lifecycle.sqlite")


@pytest.fixture
def make_app(home) -> Callable[[], AppTest]:
    """A factory of fresh sessions (browser tabs) of the app, each already run once on Home."""

    def make() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, at.exception
        return at

    return make


@pytest.fixture
def project(store) -> Project:
    """A project named Demo, created in the store before the app starts."""
    return store.create_project("Demo")
