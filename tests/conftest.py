"""Shared fixtures: every test gets its own data folder and Hugging Face cache."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """A temp LIFECYCLE_HOME and HF_HOME so tests never see each other's data."""
    home = tmp_path / "lifecycle-home"
    monkeypatch.setenv("LIFECYCLE_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return home
