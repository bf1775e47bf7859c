"""Paths and process-wide settings: the data folder and offline-by-default environment."""

from __future__ import annotations

import json
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
    """True when the user opted in to the hub: LIFECYCLE_ALLOW_HUB=1, else the saved setting."""
    env = os.environ.get("LIFECYCLE_ALLOW_HUB", "").strip().lower()
    if env:
        return env in {"1", "true", "yes"}
    try:  # read directly: lifecycle.settings builds on this module
        saved = json.loads((data_home() / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and saved.get("hub") is True


def apply_offline_env() -> None:
    """Set the offline variables before any heavy import; explicit user settings win."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if hub_allowed():
        return
    for name, value in OFFLINE_VARS.items():
        os.environ.setdefault(name, value)


def home_pointer() -> Path:
    """The file where Settings keeps a data folder chosen in the app (outside the data folder)."""
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "lifecycle" / "data-home"


def chosen_home() -> tuple[Path, str]:
    """The data folder and what decided it: LIFECYCLE_HOME, the Settings page, or the default."""
    if os.environ.get("LIFECYCLE_HOME"):
        return Path(os.environ["LIFECYCLE_HOME"]).expanduser(), "the LIFECYCLE_HOME variable"
    try:
        saved = home_pointer().read_text(encoding="utf-8").strip()
    except OSError:
        saved = ""
    if saved:
        return Path(saved).expanduser(), "the Settings page"
    return ROOT / "data", "the default"


def data_home() -> Path:
    """The folder where the app writes everything (database, runs, vectors); created on demand."""
    home = chosen_home()[0]
    home.mkdir(parents=True, exist_ok=True)
    return home
