"""Named fine-tune presets: a run's settings saved in the project, to start new runs from."""

from __future__ import annotations

from dataclasses import replace

from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import DataError
from lifecycle.store import Store, now
from lifecycle.text import slug

PRESET = "finetune_preset"  # record kind in the project store
MAX_NAME = 80  # characters: a label, not a description


def save_preset(store: Store, project_id: str, name: str, config: FinetuneConfig) -> str:
    """Save the settings under a name (the same name replaces); returns the preset's key."""
    name = " ".join(name.split())
    if not name:
        raise DataError("Give the preset a name.")
    if len(name) > MAX_NAME:
        raise DataError(f"A preset name has at most {MAX_NAME} characters.")
    key = slug(name, "preset")
    # Base model and task belong to the run, not to the recipe: a preset fits any of them.
    recipe = replace(config, base_ref="", extra={})
    data = {"name": name, "config": recipe.to_dict(), "created_at": now()}
    store.put_record(project_id, PRESET, data, key=key)
    return key


def list_presets(store: Store, project_id: str) -> dict[str, tuple[str, FinetuneConfig]]:
    """{key: (name, settings)} of the project's presets, by name."""
    found = {}
    for rec in store.list_records(project_id, PRESET):
        try:
            found[rec.key] = (str(rec.data["name"]), FinetuneConfig.from_dict(rec.data["config"]))
        except (KeyError, TypeError, ValueError):
            continue  # a damaged or hand-edited record is skipped, not fatal
    return dict(sorted(found.items(), key=lambda item: item[1][0].lower()))


def delete_preset(store: Store, project_id: str, key: str) -> None:
    """Remove a preset."""
    store.delete_record(project_id, PRESET, key)
