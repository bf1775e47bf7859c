"""Uploads that could stall the server: regexes, PDF extraction and row limits stay bounded."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifecycle.evaluation import datasets
from lifecycle.evaluation.datasets import MAX_ROWS, DatasetError, parse_rows, read_table
from lifecycle.finetune.data import DataError, training_examples
from lifecycle.rag import ChunkSettings, RagError, VectorStore, read_upload, readers
from lifecycle.rag.contents import delete_document, document_text, save_text
from lifecycle.rag.quality import first_heading, make_question

ROOT = Path(__file__).resolve().parents[2]


# Regexes on untrusted text


def test_a_heading_question_on_an_adversarial_chunk_is_fast():
    # The former heading regex backtracked cubically here: 2,000 characters took 23 s.
    script = (
        "import time; from lifecycle.rag.quality import make_question\n"
        "t = time.perf_counter(); make_question('# a' + ' ' * 20000 + 'x\\n')\n"
        "make_question('# a' + ' ' * 10000 + '#' + ' ' * 10000 + 'b')\n"
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 1


def test_headings_keep_their_text_and_drop_closing_hashes():
    assert first_heading("intro\n## Pitfalls ##\ntext") == "Pitfalls"
    assert first_heading("# C#\n") == "C#"
    assert first_heading("#\n\nnot a heading") == ""
    assert first_heading("# ##\n### Real\n") == "Real"
    spaced = "a" + " " * 50 + "x"
    assert make_question(f"# {spaced}")[0] == f"What does the guide say about {spaced}?"


# PDF extraction


def _pdf(streams: list[bytes]) -> bytes:
    """A PDF with one page per content stream (compressed, as real files are), made by pypdf."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for data in streams:
        page = writer.add_blank_page(612, 792)
        fonts = DictionaryObject({NameObject("/F1"): font})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
        content = DecodedStreamObject()
        content.set_data(data)
        page[NameObject("/Contents")] = writer._add_object(content)
        page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _text_ops(n: int) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td " + b"(word) Tj 0 -1 Td " * n + b"ET"


@pytest.mark.slow
def test_a_pdf_with_a_huge_content_stream_is_refused_quickly():
    data = _pdf([_text_ops(120_000)] * 3)  # three 2.2 MB streams in a 17 KB file
    assert len(data) < 100_000
    start = time.process_time()  # CPU time: other processes on the machine do not count
    with pytest.raises(RagError, match="too complex to read"):
        read_upload("drawing.pdf", data)
    assert time.process_time() - start < 10  # about 3 s; before the budgets 29 s
    with_text = read_upload("paper.pdf", _pdf([_text_ops(60_000), _text_ops(3)]))
    assert with_text.text.count("word") == 3
    assert with_text.note == "Left out page 1: too complex to read (drawings rather than text)."


def test_pdf_pages_text_and_time_are_bounded(monkeypatch):
    data = _pdf([_text_ops(20)] * 3)
    assert read_upload("ok.pdf", data).text.count("word") == 60
    monkeypatch.setattr(readers, "MAX_PDF_PAGES", 2)
    with pytest.raises(RagError, match="has 3 pages; the limit is 2"):
        read_upload("long.pdf", data)
    monkeypatch.setattr(readers, "MAX_PDF_PAGES", 10)
    monkeypatch.setattr(readers, "MAX_TEXT_CHARS", 100)
    with pytest.raises(RagError, match="more than 100 characters"):
        read_upload("wordy.pdf", data)
    monkeypatch.setattr(readers, "MAX_TEXT_CHARS", 10**6)
    monkeypatch.setattr(readers, "PDF_SECONDS", -1.0)
    with pytest.raises(RagError, match="reading stopped at page 1 of 3"):
        read_upload("slow.pdf", data)


# Row limits and row shapes of evaluation and training sets


def _endless_csv(limit: int):
    """A header and rows without end; fails the test if read past `limit` rows."""
    yield "input,output\n"
    for n in itertools.count(1):
        if n > limit:
            raise AssertionError(f"read {n} rows: the reader did not stop at the limit")
        yield f"question {n},answer {n}\n"


def test_the_row_limit_stops_reading_at_the_first_row_over_it():
    with pytest.raises(DatasetError, match=f"more than {MAX_ROWS:,} rows"):
        parse_rows(_endless_csv(MAX_ROWS + 1), "csv")
    lines = (f'{{"input": "q{n}", "output": "a"}}\n' for n in range(MAX_ROWS + 1))
    with pytest.raises(DatasetError, match="more than"):
        parse_rows(itertools.chain(lines, _endless_csv(0)), "jsonl")
    assert len(parse_rows(itertools.islice(_endless_csv(MAX_ROWS), MAX_ROWS + 1), "csv")) == (
        MAX_ROWS
    )


def test_a_file_over_the_size_limit_is_refused_before_parsing(monkeypatch):
    def parse(*args):
        raise AssertionError("parsed a file over the size limit")

    monkeypatch.setattr(datasets, "parse_rows", parse)
    with pytest.raises(DatasetError, match="the limit is 20 MB"):
        read_table(b"input,output\n" + b"x" * datasets.MAX_UPLOAD_BYTES, "big.csv")


def test_a_long_file_is_refused_through_read_table(monkeypatch):
    monkeypatch.setattr(datasets, "MAX_ROWS", 10)
    raw = b"input,output\n" + b"q,a\n" * 1000
    with pytest.raises(DatasetError, match="more than 10 rows"):
        read_table(raw, "long.csv")


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (b"input,output\nhello,hi\nbye,bye now,extra\n", 3),
        (b'input,output\n"two\nlines",x,extra\n', 3),
    ],
)
def test_a_row_with_more_fields_than_the_header_is_refused_with_its_line(raw, line):
    with pytest.raises(DatasetError, match=f"Line {line} has 3 fields but the header names 2"):
        read_table(raw, "x.csv")


def test_training_csv_rows_are_checked_the_same_way():
    with pytest.raises(DatasetError, match="Line 2 has 3 fields"):
        read_table(b"instruction,output\ndo this,done,oops\n", "train.csv")
    rows = read_table(b"instruction,output\n\nshort\n", "train.csv")  # a missing field is empty
    assert rows == [{"instruction": "short", "output": ""}]
    with pytest.raises(DataError, match="the file has: instruction, output"):
        training_examples(rows, "columns", ["prompt"], "output")
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(DataError, match="not a JSON list"):
        training_examples([{"messages": deep}], "messages")


def test_headers_that_lose_data_are_refused():
    with pytest.raises(DatasetError, match="'input' twice"):
        read_table(b"input,input,output\na,b,c\n", "x.csv")
    with pytest.raises(DatasetError, match="nests its JSON too deeply"):
        read_table(b'{"a": ' + b"[" * 20_000 + b"]" * 20_000 + b"}\n", "x.jsonl")


# Chunk metadata names files only by a real hash


def test_a_document_hash_from_metadata_never_becomes_a_path(tiny_embedder):
    coll = VectorStore().create("p1", "Docs", tiny_embedder, ChunkSettings())
    coll.texts.mkdir(parents=True, exist_ok=True)
    victim = coll.texts.parent / "victim.txt"
    victim.write_text("keep me")
    with pytest.raises(RagError, match="not a document hash"):
        save_text(coll, "../victim", "overwritten")
    assert victim.read_text() == "keep me"
    with pytest.raises(RagError, match="not in the collection"):
        document_text(coll, "../victim")
    assert delete_document(coll, "../victim") == 0
    assert victim.read_text() == "keep me"
    good = "ab" * 32
    save_text(coll, good, "text")
    assert document_text(coll, good) == "text"
