"""Project store: SQLite records for projects and their decisions, export and import as JSON."""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lifecycle.schema import problem, repaired
from lifecycle.text import MB

SCHEMA_VERSION = 1  # bump with a new entry in MIGRATIONS; exports carry it too
EXPORT_FORMAT = "lifecycle-project"
MAX_IMPORT_BYTES = 20 * MB  # a project export is kilobytes plus uploaded sets; more is wrong
BUSY_TIMEOUT_S = 10.0  # how long a write waits for another tab's write before giving up
MAX_NAME_LENGTH = 80
MAIN = "main"  # the key of a project's single record of a kind (scope, model, plan)

# Each step brings the database from version i-1 to i; applied in order inside one transaction.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE projects (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX projects_name ON projects (name COLLATE NOCASE)",
        """CREATE TABLE records (
            project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            data TEXT NOT NULL,
            revision INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (project_id, kind, key))""",
    ],
}


class StoreError(Exception):
    """A problem the user can act on; its message is shown as is."""


class ConflictError(StoreError):
    """The record changed elsewhere (another tab) since it was read."""


@dataclass(frozen=True)
class Project:
    """A user's LLM project being planned."""

    id: str
    name: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Record:
    """One saved decision of a project (its scope, chosen model, plan, ...)."""

    project_id: str
    kind: str
    key: str
    data: Any
    revision: int
    updated_at: str


def now(precise: bool = False) -> str:
    """The current UTC time as an ISO string (seconds, or microseconds to order fast events)."""
    return datetime.now(UTC).isoformat(timespec="microseconds" if precise else "seconds")


def _iso_or(text: str, default: str) -> str:
    """`text` when it is an ISO timestamp, else `default` (an imported value is not trusted)."""
    try:
        datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return default
    return text if len(text) <= 40 else default


def clean_name(name: str) -> str:
    """Validate a project name: trimmed, single-spaced, no control characters, not too long."""
    text = "".join(ch for ch in str(name) if unicodedata.category(ch)[0] != "C" or ch == " ")
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise StoreError("Give the project a name.")
    if len(text) > MAX_NAME_LENGTH:
        raise StoreError(
            f"Project names are at most {MAX_NAME_LENGTH} characters (this one has {len(text)})."
        )
    return text


class Store:
    """All persistence of projects and records, in one SQLite file."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: Streamlit sessions run on several threads.
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA foreign_keys = ON")
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:  # busy: nothing began, so nothing to undo
                raise StoreError(
                    f"The project database is busy ({err}); another tab or process is writing. "
                    "Try again in a moment."
                ) from err
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:  # a failed COMMIT may have ended it already
                    con.execute("ROLLBACK")
                raise
        finally:
            con.close()

    def _migrate(self) -> None:
        with sqlite3.connect(self.path, timeout=10) as con:
            con.execute("PRAGMA journal_mode = WAL")
        with self._db() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The database at {self.path} was written by a newer version of Lifecycle "
                    f"(schema {version}; this one reads up to {SCHEMA_VERSION}). Update the app."
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for sql in MIGRATIONS[step]:
                    con.execute(sql)
                con.execute(f"PRAGMA user_version = {step}")

    def schema_version(self) -> int:
        """The schema version of the database file."""
        with self._db() as con:
            return con.execute("PRAGMA user_version").fetchone()[0]

    # Projects
    def list_projects(self) -> list[Project]:
        """All projects, most recently changed first."""
        with self._db() as con:
            rows = con.execute("SELECT * FROM projects ORDER BY updated_at DESC, name").fetchall()
        return [Project(**dict(row)) for row in rows]

    def get_project(self, project_id: str) -> Project | None:
        """The project with this id, or None if it does not exist (deleted elsewhere)."""
        with self._db() as con:
            row = con.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        return Project(**dict(row)) if row else None

    def create_project(
        self, name: str, project_id: str | None = None, created_at: str = ""
    ) -> Project:
        """Create an empty project with a unique name (an import keeps its creation time)."""
        name = clean_name(name)
        stamp = now()
        project = Project(project_id or uuid.uuid4().hex, name, _iso_or(created_at, stamp), stamp)
        with self._db() as con:
            self._check_name_free(con, name)
            con.execute("INSERT INTO projects VALUES (?, ?, ?, ?)", _project_row(project))
        return project

    def rename_project(self, project_id: str, name: str) -> Project:
        """Give a project a new unique name."""
        name = clean_name(name)
        with self._db() as con:
            self._check_name_free(con, name, except_id=project_id)
            con.execute(
                "UPDATE projects SET name = ?, updated_at = ? WHERE id = ?",
                (name, now(), project_id),
            )
        return self._require(project_id)

    def duplicate_project(self, project_id: str, name: str | None = None) -> Project:
        """Copy a project and all its records under a new name."""
        source = self._require(project_id)
        copy = self.create_project(name or self.free_name(f"Copy of {source.name}"))
        with self._db() as con:
            con.execute(
                "INSERT INTO records SELECT ?, kind, key, data, 1, ? FROM records"
                " WHERE project_id = ?",
                (copy.id, now(), project_id),
            )
        return copy

    def delete_project(self, project_id: str) -> None:
        """Delete a project and every record it has."""
        with self._db() as con:
            con.execute("DELETE FROM projects WHERE id = ?", (project_id,))

    def free_name(self, wanted: str) -> str:
        """`wanted`, or `wanted (2)`, `(3)`... whichever is not taken yet."""
        taken = {p.name.casefold() for p in self.list_projects()}
        base = clean_name(wanted)[: MAX_NAME_LENGTH - 5]
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base} ({n})"
        return candidate

    def _check_name_free(self, con: sqlite3.Connection, name: str, except_id: str = "") -> None:
        row = con.execute(
            "SELECT id FROM projects WHERE name = ? COLLATE NOCASE AND id != ?", (name, except_id)
        ).fetchone()
        if row:
            raise StoreError(f"A project named “{name}” already exists; pick another name.")

    def _require(self, project_id: str) -> Project:
        project = self.get_project(project_id)
        if project is None:
            raise StoreError(
                "This project no longer exists (it was deleted, maybe in another tab)."
            )
        return project

    # Records
    def get_record(self, project_id: str, kind: str, key: str = MAIN) -> Record | None:
        """One record, or None when the project has not decided it yet."""
        with self._db() as con:
            row = con.execute(
                "SELECT * FROM records WHERE project_id = ? AND kind = ? AND key = ?",
                (project_id, kind, key),
            ).fetchone()
        record = _record(row) if row else None
        return record if record and record.data is not None else None

    def list_records(self, project_id: str, kind: str | None = None) -> list[Record]:
        """A project's records, optionally of one kind, in a stable order."""
        sql = "SELECT * FROM records WHERE project_id = ?"
        args: tuple = (project_id,)
        if kind:
            sql, args = sql + " AND kind = ?", (project_id, kind)
        with self._db() as con:
            rows = con.execute(sql + " ORDER BY kind, key", args).fetchall()
        return [r for r in map(_record, rows) if r.data is not None]

    def put_record(
        self,
        project_id: str,
        kind: str,
        data: Any,
        key: str = MAIN,
        expected_revision: int | None = None,
    ) -> Record:
        """Save a record; with expected_revision, refuse if it changed since it was read."""
        wrong = problem(kind, data)
        if wrong:
            raise StoreError(f"Cannot save the {kind.replace('_', ' ')} record: {wrong}.")
        payload = json.dumps(data, sort_keys=True, ensure_ascii=False)
        stamp = now()
        with self._db() as con:
            if not con.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone():
                raise StoreError(
                    "This project no longer exists (it was deleted, maybe in another tab)."
                )
            row = con.execute(
                "SELECT revision FROM records WHERE project_id = ? AND kind = ? AND key = ?",
                (project_id, kind, key),
            ).fetchone()
            current = row["revision"] if row else 0
            if expected_revision is not None and expected_revision != current:
                raise ConflictError(
                    f"The {kind.replace('_', ' ')} of this project was changed in another tab or "
                    "window since you opened it."
                )
            con.execute(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)",
                (project_id, kind, key, payload, current + 1, stamp),
            )
            con.execute("UPDATE projects SET updated_at = ? WHERE id = ?", (stamp, project_id))
        return Record(project_id, kind, key, json.loads(payload), current + 1, stamp)

    def delete_record(self, project_id: str, kind: str, key: str = MAIN) -> None:
        """Remove one record."""
        with self._db() as con:
            con.execute(
                "DELETE FROM records WHERE project_id = ? AND kind = ? AND key = ?",
                (project_id, kind, key),
            )

    def delete_records(self, project_id: str, kind: str, key_prefix: str) -> None:
        """Remove every record of a kind whose key starts with a prefix, in one transaction."""
        with self._db() as con:
            con.execute(
                "DELETE FROM records WHERE project_id = ? AND kind = ? AND substr(key, 1, ?) = ?",
                (project_id, kind, len(key_prefix), key_prefix),
            )


def _project_row(project: Project) -> tuple:
    return (project.id, project.name, project.created_at, project.updated_at)


def _record(row: sqlite3.Row) -> Record:
    """A stored row as a record; data None when it is unreadable (a hand-edited database)."""
    values = dict(row)
    try:
        data = json.loads(values["data"])
    except (TypeError, ValueError, RecursionError):  # not text, broken or absurdly nested JSON
        data = None
    values["data"] = repaired(values["kind"], data) if data is not None else None
    return Record(**values)
