"""Paths and process-wide settings: the data folder and offline-by-default environment."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"

# Variables that keep every library off the network unless the user opts in to the hub.
OFFLINE_VARS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}


def hub_allowed() -> bool:
    """True when the user opted in to the Hugging Face hub with LIFECYCLE_ALLOW_HUB=1."""
    return os.environ.get("LIFECYCLE_ALLOW_HUB", "").strip().lower() in {"1", "true", "yes"}


def apply_offline_env() -> None:
    """Set the offline variables before any heavy import; explicit user settings win."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if hub_allowed():
        return
    for name, value in OFFLINE_VARS.items():
        os.environ.setdefault(name, value)


def data_home() -> Path:
    """The folder where the app writes everything (database, runs, vectors); created on demand."""
    home = Path(os.environ.get("LIFECYCLE_HOME") or ROOT / "data").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home
