"""Uploaded evaluation and training sets: the examples kept once in the data folder by hash."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from lifecycle.atomic import write_text_atomic
from lifecycle.evaluation.datasets import Example
from lifecycle.schema import EXAMPLE, HASH
from lifecycle.shapes import ListOf
from lifecycle.store import Store

EVAL_SET = "eval_set"  # record kinds of uploaded sets
TRAIN_SET = "finetune_set"
EXAMPLES = ListOf(EXAMPLE)


@dataclass(frozen=True)
class UploadedSet:
    """An uploaded set as a project keeps it; `missing` when its file is not in this data folder."""

    key: str
    name: str
    task_id: str
    examples: tuple[Example, ...]
    metrics: tuple[str, ...] = ()
    file: str = ""
    missing: bool = False


def files_folder(store: Store) -> Path:
    """Where uploaded sets live: beside the project database, in the data folder."""
    return store.path.parent / "uploads"


def examples_text(examples: list[Example] | tuple[Example, ...]) -> str:
    """The canonical JSON text of a set's examples (what is hashed and stored)."""
    rows = [{"id": e.id, "input": e.input, "output": e.output} for e in examples]
    return json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(text: str) -> str:
    """The file name of stored text: its sha256."""
    return hashlib.sha256(text.encode()).hexdigest()


def put_file(store: Store, text: str) -> str:
    """Store text once by content (atomically) and return its hash."""
    name = digest(text)
    path = files_folder(store) / f"{name}.json"
    if not path.is_file():
        write_text_atomic(path, text)
    return name


def read_file(store: Store, name: str) -> str | None:
    """Stored text by hash; None when absent or not what its name promises."""
    path = files_folder(store) / f"{name}.json"
    if not re.fullmatch(HASH, name) or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    return text if digest(text) == name else None


def parse_examples(text: str) -> tuple[Example, ...] | None:
    """Examples from stored text; None when it is not a list of examples."""
    try:
        rows = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if EXAMPLES.problem(rows, "examples"):
        return None
    return tuple(Example(r["id"], r["input"], r["output"]) for r in rows)


def save_set(
    store: Store,
    project_id: str,
    kind: str,
    key: str,
    name: str,
    task_id: str,
    examples: list[Example] | tuple[Example, ...],
    metrics: tuple[str, ...] | None = None,
) -> None:
    """Keep an uploaded set: its examples in a file, a small record that points at it."""
    data = {"name": name, "task_id": task_id, "count": len(examples)}
    data["file"] = put_file(store, examples_text(examples))
    if metrics is not None:
        data["metrics"] = list(metrics)
    store.put_record(project_id, kind, data, key=key)


def list_sets(store: Store, project_id: str, kind: str) -> dict[str, UploadedSet]:
    """A project's uploaded sets of one kind, by record key (files read as needed)."""
    found = {}
    for rec in store.list_records(project_id, kind):
        data, missing = rec.data, False
        examples: tuple[Example, ...] = ()
        if "examples" in data:  # records made before sets moved into files
            examples = tuple(Example(e["id"], e["input"], e["output"]) for e in data["examples"])
        elif "file" in data:
            text = read_file(store, data["file"])
            parsed = parse_examples(text) if text is not None else None
            examples, missing = parsed or (), parsed is None
        name, metrics = data["name"], tuple(data.get("metrics") or ())
        found[rec.key] = UploadedSet(
            rec.key, name, data["task_id"], examples, metrics, data.get("file", ""), missing
        )
    return found


def referenced_files(store: Store, project_id: str) -> list[tuple[str, str]]:
    """(file hash, set name) of every uploaded set of a project, each file once."""
    seen: dict[str, str] = {}
    for kind in (EVAL_SET, TRAIN_SET):
        for rec in store.list_records(project_id, kind):
            if "file" in rec.data:
                seen.setdefault(rec.data["file"], rec.data["name"])
    return list(seen.items())


def remove_unreferenced(store: Store, min_age_s: float = 3600.0) -> int:
    """Delete stored files no project points to any more (after a project is deleted).

    Files younger than `min_age_s` stay: a set being uploaded in another tab has its file
    written a moment before its record.
    """
    used = {name for p in store.list_projects() for name, _ in referenced_files(store, p.id)}
    removed, now = 0, time.time()
    for path in files_folder(store).glob("*.json"):
        if path.stem not in used and now - path.stat().st_mtime > min_age_s:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
