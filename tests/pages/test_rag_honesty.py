"""Issue 16 on the RAG page: citations, skipped files, the new-collection form, code blocks,
the retrieval-quality table and the calculator's raw reply (answers from the fake model)."""

from __future__ import annotations

import pytest

from components.models.pick import OTHER, other_key
from components.rag.ask import highlight_markdown
from components.state import Keys
from components.tools.ui import EXAMPLE
from lifecycle.tools.prompts import expression_grammar
from tests.conftest import link_embedded
from tests.fake_model import install

from .helpers import button, goto, rerun, texts

PAGE = "app_pages/rag.py"
DOC = b"# Zephyr notes\n\nThe Zephyr-9 robot runs for 14 hours on one charge.\n"


@pytest.fixture
def fake():
    return install()


@pytest.fixture
def at(make_app, project, home, embedded_models, fake):
    """The page answering with the fake model (retrieval is the real embedded MiniLM)."""
    link_embedded(embedded_models, home)
    at = goto(make_app(), PAGE)
    at = rerun(at.selectbox(key=Keys.RAG_MODEL).select(OTHER))
    return rerun(at.text_input(key=other_key(Keys.RAG_MODEL)).input("fake:model"))


@pytest.mark.slow
def test_only_citations_used_as_such_are_marked_and_unknown_ones_are_flagged(at, fake):
    fake.enqueue(
        "LoRA trains adapters.",
        "LoRA trains small adapters [2]. The sources say to cite like [1]. See also [7].",
    )
    at = rerun(at.text_input(key=Keys.RAG_QUESTION).input("What does LoRA train?"))
    at = rerun(button(at, "Ask").click())
    sources = [e.label for e in at.expander if e.label.startswith("\\[") or e.label[:1] == "["]
    assert len(sources) == 3, sources
    marked = [s for s in sources if "· cited" in s]
    assert len(marked) == 1 and marked[0].startswith("[2]"), sources
    assert any("[7]" in w and "point at nothing" in w for w in texts(at.warning)), texts(at.warning)
    prompt = " ".join(m["content"] for m in fake.prompts[-1])
    assert "like [1]" not in prompt and "as [1], [2]" not in prompt


@pytest.mark.slow
def test_skipped_files_keep_their_reason_and_nothing_new_disables_embedding(at):
    at = rerun(
        at.file_uploader(key=Keys.RAG_UPLOAD + "_0").set_value(("zephyr.md", DOC, "text/markdown"))
    )
    at = rerun(button(at, "Embed and add").click())
    assert any("Added 1 document " in s for s in texts(at.success)), texts(at.success)
    # The same content again: the reason is there before embedding, and there is nothing to add.
    at = rerun(
        at.file_uploader(key=Keys.RAG_UPLOAD + "_1").set_value(("copy.md", DOC, "text/markdown"))
    )
    assert any("copy.md: Same content" in w for w in texts(at.warning)), texts(at.warning)
    assert button(at, "Embed and add").disabled
    # A refused file and a new one: the refusal's reason survives the rerun after adding.
    files = [("empty.txt", b"   ", "text/plain"), ("new.md", b"# New\n\nFresh text.", "text/md")]
    at = rerun(at.file_uploader(key=Keys.RAG_UPLOAD + "_1").set_value(files))
    at = rerun(button(at, "Embed and add").click())
    assert any("skipped 1" in s for s in texts(at.success)), texts(at.success)
    assert any(w.startswith("empty.txt") for w in texts(at.warning)), texts(at.warning)


@pytest.mark.slow
def test_the_new_collection_name_is_a_form_so_enter_creates_it(at):
    [create] = [b for b in at.button if b.label == "Create"]
    assert create.proto.form_id  # Enter in a form's text box submits it
    at = rerun(at.text_input(key=Keys.RAG_NEW_LABEL).input("Policies"))
    at = rerun(create.click())
    picked = at.selectbox(key=Keys.RAG_COLLECTION)
    assert picked.format_func(picked.value).startswith("Policies")


def test_a_highlighted_code_block_keeps_its_lines_and_indentation():
    text = "Intro.\n\n```python\ndef f():\n    return 1\n```\nAfter."
    start = text.index("def")
    shown = highlight_markdown(text, start, start + len("def f():\n    return 1"))
    assert "  \n" in shown and ":orange-background[def f\\(\\)\\:]" in shown
    assert ":orange-background[\u00a0\u00a0\u00a0\u00a0return 1]" in shown


@pytest.mark.slow
def test_the_quality_table_has_one_type_per_column(at):
    at = rerun(at.slider(key=Keys.RAG_QUALITY + "_n").set_value(5))
    at = rerun(button(at, "Measure retrieval quality").click())
    [table] = [d.value for d in at.dataframe if "rank" in d.value.columns]
    assert {type(v) for v in table["rank"]} == {str}
    assert len(set(table["question"])) == len(table)


@pytest.mark.slow
def test_the_calculator_shows_the_raw_reply_and_the_expression(at, fake):
    fake.enqueue("It is 391.", "17 * 23 + 4")
    at = rerun(button(at, "Answer both ways").click())
    assert "17 * 23 + 4" in [c.value for c in at.code]
    assert any(c == "The model's reply, as written:" for c in texts(at.caption))
    assert fake.params[-1].grammar == expression_grammar(EXAMPLE)  # the question's numbers
