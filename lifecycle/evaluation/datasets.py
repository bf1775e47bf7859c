"""Evaluation sets: the shipped JSONL sets and user uploads (CSV/JSONL) with validation."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from lifecycle.config import KNOWLEDGE
from lifecycle.text import MB, plural

MAX_UPLOAD_BYTES = 20 * MB  # a few thousand examples fit in far less (MB as the uploader counts)
MAX_ROW_CHARS = 100_000  # one example longer than this is a wrong file, not a prompt
MAX_ROWS = 5000


class DatasetError(ValueError):
    """An evaluation set that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Example:
    """One input with its reference output."""

    id: str
    input: str
    output: str


@dataclass(frozen=True)
class EvalSet:
    """A named list of examples for one task, identified by the hash of its content."""

    name: str
    task_id: str
    metrics: tuple[str, ...]
    examples: tuple[Example, ...]
    description: str = ""

    @property
    def hash(self) -> str:
        """Content hash: two runs compare only on the same examples."""
        body = json.dumps([[e.id, e.input, e.output] for e in self.examples], ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def head(self, n: int) -> EvalSet:
        """The first n examples (a slice for quick runs)."""
        return EvalSet(
            f"{self.name} (first {n})",
            self.task_id,
            self.metrics,
            self.examples[:n],
            self.description,
        )


def _empty_rows(numbers: list[str], what: str) -> str:
    """'1 row has an empty input (row 3).' / '12 rows have ... (rows 1, 2, ... 10...).'"""
    more = "..." if len(numbers) > 10 else ""
    one = len(numbers) == 1
    return (
        f"{plural(len(numbers), 'row')} {'has' if one else 'have'} an empty {what} "
        f"({'row' if one else 'rows'} {', '.join(numbers[:10])}{more})."
    )


@lru_cache(maxsize=1)
def shipped_index() -> list[dict]:
    """The shipped sets as described in knowledge/datasets/index.yaml."""
    return yaml.safe_load((KNOWLEDGE / "datasets" / "index.yaml").read_text())["datasets"]


def load_shipped(set_id: str, split: str = "test") -> EvalSet:
    """One split of a shipped set."""
    meta = next((d for d in shipped_index() if d["id"] == set_id), None)
    if meta is None:
        raise DatasetError(f"No shipped set {set_id!r}.")
    path = KNOWLEDGE / "datasets" / set_id / f"{split}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    examples = tuple(Example(r["id"], r["input"], r["output"]) for r in rows)
    return EvalSet(
        f"{meta['name']} ({split})",
        meta["task"],
        tuple(meta["metrics"]),
        examples,
        meta.get("description", ""),
    )


def read_table(raw: bytes, filename: str) -> list[dict]:
    """Rows of an uploaded CSV or JSONL file, refusing empty, huge or undecodable files."""
    if len(raw) > MAX_UPLOAD_BYTES:  # before decoding: a big file costs memory on every parse
        raise DatasetError(
            f"The file is {len(raw) / MB:.1f} MB; the limit is {MAX_UPLOAD_BYTES // MB} MB."
        )
    if not raw or raw.isspace():
        raise DatasetError("The file is empty.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DatasetError(f"The file is not UTF-8 text (byte {err.start}); save it as UTF-8.")
    kind = "jsonl" if Path(filename).suffix.lower() in (".jsonl", ".json") else "csv"
    # newline="": lines end at \n, \r\n or \r only (not at U+2028 inside a JSON string).
    return parse_rows(io.StringIO(text, newline=""), kind)


def parse_rows(lines: Iterable[str], kind: str) -> list[dict]:
    """Rows of CSV or JSONL lines, stopping at the first row over MAX_ROWS."""
    rows: list[dict] = []
    for row in _jsonl(lines) if kind == "jsonl" else _csv(lines):
        if len(rows) == MAX_ROWS:  # stop here: the rest is never read or kept
            raise DatasetError(
                f"The file has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,}. "
                "Upload a sample of it."
            )
        rows.append(row)
    if not rows:
        raise DatasetError(
            "The file has no rows." if kind == "jsonl" else "The file has a header but no rows."
        )
    return rows


def _jsonl(lines: Iterable[str]) -> Iterator[dict]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        _check_size(line, n)
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DatasetError(f"Line {n} is not valid JSON ({err.msg}).")
        except RecursionError:
            raise DatasetError(f"Line {n} nests its JSON too deeply.") from None
        if not isinstance(row, dict):
            raise DatasetError(f"Line {n} is not a JSON object with named fields.")
        yield row


def _csv(lines: Iterable[str]) -> Iterator[dict]:
    csv.field_size_limit(MAX_ROW_CHARS * 2)
    reader = csv.reader(lines)
    try:
        header = next((fields for fields in reader if fields), None)
        if header is None:
            return
        _check_header(header)
        for fields in reader:
            if not fields:
                continue  # a blank line
            _check_fields(fields, len(header), reader.line_num)
            yield dict(zip(header, fields + [""] * (len(header) - len(fields))))
    except csv.Error as err:
        raise DatasetError(f"The CSV file is malformed near line {reader.line_num} ({err}).")


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen and name.strip():
            raise DatasetError(f"The header names the column {name!r} twice: rename one.")
        seen.add(name)


def _check_fields(fields: list[str], expected: int, line: int) -> None:
    if len(fields) > expected:
        # DictReader would file the extra values under a None column: refuse instead.
        raise DatasetError(
            f"Line {line} has {len(fields)} fields but the header names {expected}: "
            "quote values that contain commas, or name every column in the header."
        )
    _check_size("".join(fields), line)


def _check_size(line: str, n: int) -> None:
    if len(line) > MAX_ROW_CHARS:
        raise DatasetError(
            f"Line {n} has {len(line):,} characters; one example may have at most "
            f"{MAX_ROW_CHARS:,}."
        )


def columns(rows: list[dict]) -> list[str]:
    """Column names in order of first appearance."""
    return list(dict.fromkeys(key for row in rows for key in row))


def to_set(
    rows: list[dict],
    input_col: str,
    output_col: str,
    name: str,
    task_id: str,
    metrics: tuple[str, ...],
) -> EvalSet:
    """Map two columns to input/reference; refuses missing columns and empty references."""
    for col in (input_col, output_col):
        if col not in columns(rows):
            raise DatasetError(
                f"Column {col!r} is missing; the file has: {', '.join(columns(rows))}."
            )
    if input_col == output_col:
        raise DatasetError("Input and reference must be two different columns.")
    empty = [str(n) for n, r in enumerate(rows, 1) if not str(r.get(output_col) or "").strip()]
    if empty:
        raise DatasetError(_empty_rows(empty, "reference"))
    blank = [str(n) for n, r in enumerate(rows, 1) if not str(r.get(input_col) or "").strip()]
    if blank:
        raise DatasetError(_empty_rows(blank, "input"))
    examples = tuple(
        Example(str(r.get("id") or n), str(r[input_col]), str(r[output_col]))
        for n, r in enumerate(rows, 1)
    )
    return EvalSet(name, task_id, metrics, examples, "Uploaded by the user.")
