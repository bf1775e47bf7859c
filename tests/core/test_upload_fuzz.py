"""Property tests of uploads: any file gives a clear refusal or a valid result, never a crash."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.evaluation.datasets import MAX_ROWS, DatasetError, EvalSet, read_table, to_set
from lifecycle.finetune.data import DataError, training_examples
from lifecycle.rag import RagError, read_upload
from tests.core.test_rag import make_pdf

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TABLE_NAMES = st.sampled_from(["set.csv", "set.jsonl", "set.json", "SET.CSV", "set"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])
CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | CELL,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CELL, inner, max_size=3),
    max_leaves=8,
)


def _check_rows(raw: bytes, name: str) -> None:
    """read_table, then every mapping a person could pick: DatasetError/DataError or valid."""
    try:
        rows = read_table(raw, name)
    except DatasetError as err:
        assert str(err)
        return
    assert 0 < len(rows) <= MAX_ROWS
    assert all(isinstance(r, dict) and all(isinstance(k, str) for k in r) for r in rows)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    for a, b in [(c1, c2) for c1 in cols[:3] for c2 in cols[:3]]:
        try:
            assert isinstance(to_set(rows, a, b, name, "summarization", ("rouge",)), EvalSet)
        except DatasetError as err:
            assert str(err)
        for fmt, args in (("columns", ([a], b)), ("messages", ([], "", a))):
            try:
                assert isinstance(training_examples(rows, fmt, *args), list)
            except DataError as err:
                assert str(err)


@FUZZ
@given(raw=st.binary(max_size=400), name=TABLE_NAMES)
def test_random_bytes_as_a_dataset(raw, name):
    _check_rows(raw, name)


@FUZZ
@given(
    rows=st.lists(st.lists(CELL, max_size=5), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=ENCODINGS,
)
def test_csv_of_any_shape_delimiter_and_encoding(rows, delimiter, quoting, newline, encoding):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline).writerows(rows)
    _check_rows(out.getvalue().encode(encoding, errors="replace"), "set.csv")


@FUZZ
@given(values=st.lists(JSON, max_size=6), encoding=ENCODINGS, blank=st.booleans())
def test_jsonl_of_any_values(values, encoding, blank):
    lines = [json.dumps(v, ensure_ascii=False) for v in values]
    text = ("\n\n" if blank else "\n").join(lines)
    _check_rows(text.encode(encoding, errors="replace"), "set.jsonl")


@FUZZ
@given(
    messages=st.lists(
        st.dictionaries(st.sampled_from(["role", "content", "x"]), JSON, max_size=3), max_size=4
    ),
    other=JSON,
)
def test_chat_rows_of_any_shape(messages, other):
    line = json.dumps({"messages": messages, "other": other})
    _check_rows(line.encode(), "chat.jsonl")
    cell = json.dumps(json.dumps(messages))  # the list as JSON text inside a CSV cell
    _check_rows(f"messages,other\n{cell},x\n".encode(), "chat.csv")


def _check_document(name: str, data: bytes) -> None:
    try:
        doc = read_upload(name, data)
    except RagError as err:
        assert str(err)
        return
    assert doc.text.strip() and len(doc.doc_hash) == 64
    assert "/" not in doc.name and doc.name.strip()


@FUZZ
@given(
    data=st.binary(max_size=400),
    name=st.sampled_from(["a.txt", "b.md", "c.html", "d.htm", "e.pdf", "f.exe", "../g.txt"]),
)
def test_random_bytes_as_a_document(data, name):
    _check_document(name, data)


@FUZZ
@given(text=st.text(max_size=300), encoding=ENCODINGS, kind=st.sampled_from(["txt", "md", "html"]))
def test_text_documents_in_any_encoding(text, encoding, kind):
    _check_document(f"doc.{kind}", text.encode(encoding, errors="replace"))


@FUZZ
@given(
    text=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10**6),
)
def test_damaged_pdfs(text, flips, cut):
    data = bytearray(make_pdf(text.replace("(", "").replace(")", "").replace("\\", "") or None))
    for at, value in flips:
        data[at % len(data)] = value
    _check_document("scan.pdf", bytes(data[: max(1, cut % (len(data) + 1))]))
