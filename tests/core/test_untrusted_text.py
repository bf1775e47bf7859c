"""Untrusted text rendered as Markdown: no link, image, HTML or bare URL can form; text survives."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.text import WORD_JOINER, csv_safe, md_code, md_escape, safe_markdown
from tests.markdown_checks import assert_inert, shown, tokens

IMAGE = "![x](http://127.0.0.1:9/x)"
LINK = "[l](http://e.com)"
HOSTILE = (
    IMAGE,
    LINK,
    "<img src=http://127.0.0.1:9/y>",
    "<http://127.0.0.1:9/auto>",
    "[ref]\n\n[ref]: http://127.0.0.1:9/def",
    "![ref][r]\n\n[r]: http://127.0.0.1:9/img",
    "see http://127.0.0.1:9/bare and www.example.com or me@example.com",
    "**bold** [link](http://example.com)",
    "x` ![i](http://127.0.0.1:9/code) `y",
    "escaped http\\://127.0.0.1:9/e and www\\.example.com and entity http&#58;//127.0.0.1:9/f",
)
# Text rich in Markdown's punctuation, so that the fuzzer builds links, images, HTML and URLs.
PIECES = st.sampled_from(
    ["[", "]", "(", ")", "!", "<", ">", "`", "*", "_", "\\", ":", "/", ".", "@", "&", "#", "|"]
    + ["http", "https://", "www.", "a@b.co", "x", " ", "\n", "![a](", "](", "]:", "<a ", "=", "-"]
    + ["&#58;", "&colon;", "&#64;", "&#x5b;", "\\:", "\\/", "\\."]
)
UNTRUSTED = st.lists(PIECES | st.text(max_size=3), max_size=40).map("".join)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_is_inert_both_ways(text):
    assert_inert(md_escape(text))
    assert_inert(safe_markdown(text))


@settings(max_examples=300, deadline=None)
@given(UNTRUSTED)
def test_safe_markdown_never_renders_a_link_image_or_html(text):
    assert_inert(safe_markdown(text))


@settings(max_examples=300, deadline=None)
@given(UNTRUSTED)
def test_md_escape_shows_exactly_what_was_typed(text):
    line = " ".join(text.replace("\0", "").split())  # a paragraph joins whitespace anyway
    assert_inert(md_escape(line))
    inline = [t for t in tokens(md_escape(line)) if t.type not in ("paragraph_open", "inline")]
    assert {t.type for t in inline} <= {"text", "paragraph_close"}, inline  # no formatting
    assert shown(md_escape(line)) == line.replace(WORD_JOINER, "")


def test_a_markdown_project_name_shows_as_typed():
    name = "**bold** [link](http://example.com)"
    assert_inert(md_escape(name))
    assert shown(md_escape(name)) == name


def test_safe_markdown_keeps_formatting_and_line_breaks():
    text = "**Answer**\nline two\n\n- item `code`"
    kinds = {t.type for t in tokens(safe_markdown(text))}
    assert {"strong_open", "hardbreak", "bullet_list_open", "code_inline"} <= kinds
    assert shown(safe_markdown(IMAGE + " " + LINK)) == IMAGE + " " + LINK  # shown, not fetched


@settings(max_examples=200, deadline=None)
@given(UNTRUSTED.filter(lambda t: t.strip()))
def test_md_code_is_one_code_span_that_nothing_closes(text):
    inline = [t for t in tokens(md_code(text)) if t.type not in ("paragraph_open", "inline")]
    assert [t.type for t in inline] == ["code_inline", "paragraph_close"], (text, inline)


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", '=HYPERLINK("x")'])
def test_csv_cells_that_look_like_formulas_become_text(cell):
    assert csv_safe(cell) == "'" + cell
    assert csv_safe("plain") == "plain" and csv_safe(-1.5) == -1.5  # numbers stay numbers


def test_history_csv_has_no_formula_cells():
    from lifecycle.versions import runs_csv

    runs = [{"label": "=cmd|' /C calc'!A0", "model": "@x", "output": "-2+3", "latency_s": -0.5}]
    rows = list(csv.DictReader(io.StringIO(runs_csv(runs))))
    assert rows[0]["label"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["model"] == "'@x" and rows[0]["output"] == "'-2+3"
    assert rows[0]["latency_s"] == "-0.5"


def test_report_from_hostile_records_has_no_live_link_or_image(tmp_path):
    from lifecycle.evaluation.runs import Candidate, EvalRun
    from lifecycle.models import GenParams
    from lifecycle.overview import overview
    from lifecycle.prompting import PromptSpec
    from lifecycle.report import markdown_report
    from lifecycle.store import Store

    bad = f"{IMAGE} {LINK} <img src=http://127.0.0.1:9/h> http://127.0.0.1:9/bare"
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("Hostile " + LINK)
    store.put_record(project.id, "scope", {"primary_task": "summarization"})
    store.put_record(project.id, "model", {"model_id": bad, "custom_params": 1_000_000})
    finetune = {
        "id": bad,
        "base_ref": bad,
        "method": bad,
        "dataset": {"name": bad, "hash": bad},
        "step": bad,
        "total_steps": bad,
        "state": bad,
    }
    spec = PromptSpec("s", "i", "{input}")
    candidate = Candidate(bad, bad, spec, GenParams())
    run = EvalRun(bad, candidate, bad, bad, "summarization", ("rouge",), 3, scores={"rougeL": 0.5})
    ov = replace(overview(store, project.id), finetunes=(finetune,), eval_runs=(run,))
    report = markdown_report(ov)
    assert_inert(report)
    visible = shown(report)
    assert IMAGE in visible and LINK in visible  # the fields are there, as text
