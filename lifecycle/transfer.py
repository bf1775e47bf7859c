"""Export a project to a JSON document and import one back, refusing bad files clearly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lifecycle.atomic import write_text_atomic
from lifecycle.schema import KINDS, problem
from lifecycle.store import (
    EXPORT_FORMAT,
    MAX_IMPORT_BYTES,
    MB,
    SCHEMA_VERSION,
    Project,
    Store,
    StoreError,
    clean_name,
    now,
)
from lifecycle.uploads import digest, parse_examples, put_file, read_file, referenced_files

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def export_project(store: Store, project_id: str) -> dict[str, Any]:
    """A project, all its records and its uploaded sets' files, as one JSON-ready document."""
    project = store.get_project(project_id)
    if project is None:
        raise StoreError("This project no longer exists (it was deleted, maybe in another tab).")
    doc = {
        "format": EXPORT_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": now(),
        "project": {"id": project.id, "name": project.name, "created_at": project.created_at},
        "records": [
            {"kind": r.kind, "key": r.key, "data": r.data} for r in store.list_records(project_id)
        ],
    }
    _add_files(store, project_id, doc)
    return doc


def _size(doc: dict[str, Any]) -> int:
    return len(encode_export(doc))


def _add_files(store: Store, project_id: str, doc: dict[str, Any]) -> None:
    """Add uploaded sets' files while the export stays importable; name those left out."""
    files, left_out = {}, []
    room = MAX_IMPORT_BYTES - _size({**doc, "files": {}, "left_out": []}) - 1000
    for name, set_name in referenced_files(store, project_id):
        text = read_file(store, name)
        cost = len(json.dumps(text, ensure_ascii=False).encode()) + 80 if text else 0
        if text is not None and cost <= room:
            files[name], room = text, room - cost
        else:
            reason = "missing from this data folder" if text is None else "too large"
            left_out.append({"file": name, "name": set_name, "reason": reason})
            room -= 300  # the note itself takes room
    if files or left_out:
        doc["files"] = files
    if left_out:
        doc["left_out"] = left_out


def left_out_note(doc: dict[str, Any]) -> str:
    """A sentence naming the uploaded sets an export leaves out ('' when it has them all)."""
    gone = doc.get("left_out") or []
    if not gone:
        return ""
    names = ", ".join(f"{g['name']} ({g['reason']})" for g in gone)
    return (
        f"The export leaves out the examples of {names}: an export is at most "
        f"{MAX_IMPORT_BYTES // MB} MB. Upload those sets again after importing it."
    )


def encode_export(doc: dict[str, Any]) -> bytes:
    """An export document as the bytes of its file."""
    return json.dumps(doc, indent=2, ensure_ascii=False).encode()


def export_bytes(store: Store, project_id: str) -> bytes:
    """The export document encoded for a download button."""
    return encode_export(export_project(store, project_id))


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON next to its destination, then rename, so a crash never leaves half a file."""
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False))


def parse_export(raw: bytes) -> dict[str, Any]:
    """Decode and validate an uploaded export; every problem becomes a readable StoreError."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise StoreError(
            f"This file is {len(raw) / MB:.1f} MB; a project export is at most "
            f"{MAX_IMPORT_BYTES // MB} MB. Is it the right file?"
        )
    if not raw.strip():
        raise StoreError("This file is empty.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StoreError("This file is not UTF-8 text; a project export is a UTF-8 JSON file.")
    doc = loads_json(text)
    _check_version(doc)
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise StoreError("This JSON file is not a Lifecycle project export.")
    _check_body(doc)
    return doc


def loads_json(text: str) -> Any:
    """json.loads whose every failure is a StoreError (nesting that is too deep included)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise StoreError(f"This file is not valid JSON (line {err.lineno}: {err.msg}).")
    except RecursionError:
        raise StoreError("This file nests lists or objects too deeply to be a project export.")


def _check_version(doc: Any) -> None:
    """Name the schema version first: a newer export must not read as a foreign file."""
    if not isinstance(doc, dict):
        return
    fmt, version = doc.get("format"), doc.get("schema_version")
    ours = fmt is None or (isinstance(fmt, str) and fmt.startswith("lifecycle"))
    if not ours or (fmt is None and version is None):
        return
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StoreError("This export has no valid schema_version.")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"This export was made by a newer version of Lifecycle (schema {version}; this "
            f"app reads up to {SCHEMA_VERSION}). Update the app to import it."
        )


def _check_body(doc: dict[str, Any]) -> None:
    project, records = doc.get("project"), doc.get("records")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise StoreError("This export has no project name.")
    clean_name(project["name"])
    if not isinstance(records, list):
        raise StoreError("This export has no list of records.")
    seen = set()
    for i, rec in enumerate(records, 1):
        if not (isinstance(rec, dict) and KIND_PATTERN.match(str(rec.get("kind", "")))):
            raise StoreError(f"Record {i} of this export has no valid kind.")
        kind = rec["kind"]
        if not isinstance(rec.get("key"), str) or "data" not in rec:
            raise StoreError(f"Record {i} ({kind}) of this export is incomplete.")
        if kind not in KINDS:
            raise StoreError(f"Record {i} has a kind this app does not know: {kind!r}.")
        wrong = problem(kind, rec["data"])
        if wrong:
            raise StoreError(f"Record {i} ({kind} {rec['key'][:40]!r}) is not valid: {wrong}.")
        if (kind, rec["key"]) in seen:
            raise StoreError(f"Record {i} ({kind} {rec['key'][:40]!r}) appears twice.")
        seen.add((kind, rec["key"]))
    _check_files(doc.get("files", {}))


def _check_files(files: Any) -> None:
    if not isinstance(files, dict):
        raise StoreError("The files of this export are not a list of named files.")
    for name, text in files.items():
        if not isinstance(text, str) or digest(text) != name:
            raise StoreError(f"File {name[:16]!r} of this export is damaged (its hash differs).")
        if parse_examples(text) is None:
            raise StoreError(f"File {name[:16]!r} of this export is not a list of examples.")


def import_project(store: Store, raw: bytes) -> Project:
    """Create a project from an export; keeps its id and name unless they are taken."""
    doc = parse_export(raw)
    meta = doc["project"]
    wanted_id = str(meta.get("id") or "")
    keep_id = bool(re.fullmatch(r"[0-9a-f]{32}", wanted_id)) and not store.get_project(wanted_id)
    project = store.create_project(
        store.free_name(meta["name"]),
        project_id=wanted_id if keep_id else None,
        created_at=str(meta.get("created_at") or ""),
    )
    try:
        for rec in doc["records"]:
            store.put_record(project.id, rec["kind"], rec["data"], key=rec["key"])
        for text in doc.get("files", {}).values():
            put_file(store, text)  # by content: a file another project shares is kept once
    except BaseException:
        store.delete_project(project.id)  # all or nothing
        raise
    return store.get_project(project.id) or project
