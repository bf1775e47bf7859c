"""Export a project to a JSON document and import one back, refusing bad files clearly."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from lifecycle.store import (
    EXPORT_FORMAT,
    MAX_IMPORT_BYTES,
    SCHEMA_VERSION,
    Project,
    Store,
    StoreError,
    clean_name,
    now,
)

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def export_project(store: Store, project_id: str) -> dict[str, Any]:
    """A project and all its records as one JSON-ready document."""
    project = store.get_project(project_id)
    if project is None:
        raise StoreError("This project no longer exists (it was deleted, maybe in another tab).")
    return {
        "format": EXPORT_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": now(),
        "project": {"id": project.id, "name": project.name, "created_at": project.created_at},
        "records": [
            {"kind": r.kind, "key": r.key, "data": r.data} for r in store.list_records(project_id)
        ],
    }


def export_bytes(store: Store, project_id: str) -> bytes:
    """The export document encoded for a download button."""
    return json.dumps(export_project(store, project_id), indent=2, ensure_ascii=False).encode()


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON next to its destination, then rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_export(raw: bytes) -> dict[str, Any]:
    """Decode and validate an uploaded export; every problem becomes a readable StoreError."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise StoreError(
            f"This file is {len(raw) / 2**20:.1f} MB; a project export is at most "
            f"{MAX_IMPORT_BYTES // 2**20} MB. Is it the right file?"
        )
    if not raw.strip():
        raise StoreError("This file is empty.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StoreError("This file is not UTF-8 text; a project export is a UTF-8 JSON file.")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise StoreError(f"This file is not valid JSON (line {err.lineno}: {err.msg}).")
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise StoreError("This JSON file is not a Lifecycle project export.")
    version = doc.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise StoreError("This export has no valid schema_version.")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"This export was made by a newer version of Lifecycle (schema {version}; this "
            f"app reads up to {SCHEMA_VERSION}). Update the app to import it."
        )
    _check_body(doc)
    return doc


def _check_body(doc: dict[str, Any]) -> None:
    project, records = doc.get("project"), doc.get("records")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise StoreError("This export has no project name.")
    clean_name(project["name"])
    if not isinstance(records, list):
        raise StoreError("This export has no list of records.")
    for i, rec in enumerate(records, 1):
        if not (isinstance(rec, dict) and KIND_PATTERN.match(str(rec.get("kind", "")))):
            raise StoreError(f"Record {i} of this export has no valid kind.")
        if not isinstance(rec.get("key"), str) or "data" not in rec:
            raise StoreError(f"Record {i} ({rec['kind']}) of this export is incomplete.")


def import_project(store: Store, raw: bytes) -> Project:
    """Create a project from an export; keeps its id and name unless they are taken."""
    doc = parse_export(raw)
    meta = doc["project"]
    wanted_id = str(meta.get("id") or "")
    keep_id = bool(re.fullmatch(r"[0-9a-f]{32}", wanted_id)) and not store.get_project(wanted_id)
    project = store.create_project(
        store.free_name(meta["name"]), project_id=wanted_id if keep_id else None
    )
    try:
        for rec in doc["records"]:
            store.put_record(project.id, rec["kind"], rec["data"], key=rec["key"])
    except BaseException:
        store.delete_project(project.id)  # all or nothing
        raise
    return store.get_project(project.id) or project
