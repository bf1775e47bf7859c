"""RAG page: the starter collection, a question answered with and without sources, tools."""

from __future__ import annotations

import pytest

from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.rag import STARTER_LABEL
from lifecycle.text import md_escape
from tests.conftest import link_embedded
from tests.fake_model import install

from .helpers import button, goto, rerun, texts

PAGE = "app_pages/rag.py"
WITHOUT, WITH = "I cannot say from what I know.", "Quantization stores the weights in fewer bits."


@pytest.fixture
def fake():
    return install()


@pytest.fixture
def at(make_app, project, home, embedded_models, fake):
    """The page answering with the fake model (retrieval is what is tested), the embedded model
    already converted in this data folder."""
    link_embedded(embedded_models, home)
    at = make_app()
    at.session_state[Keys.RAG_MODEL] = OTHER
    at.session_state[other_key(Keys.RAG_MODEL)] = "fake:model"
    return goto(at, PAGE)


@pytest.mark.slow
def test_starter_collection_question_sources_and_collections(at, fake):
    fake.enqueue(WITHOUT, WITH)
    assert texts(at.title) == ["7 · Infrastructure: RAG and tools"]
    picked = at.selectbox(key=Keys.RAG_COLLECTION)
    assert picked.format_func(picked.value).startswith(f"{STARTER_LABEL} · chunks of")
    at = rerun(at.text_input(key=Keys.RAG_QUESTION).input("How does quantization shrink a model?"))
    at = rerun(button(at, "Ask").click())
    sources = [e.label for e in at.expander if e.label.startswith("[")]
    assert len(sources) == 3 and "similarity" in sources[0], sources
    assert any(md_escape("06-deploy.md") in s for s in sources), sources  # names shown as typed
    assert "**Without retrieval**" in texts(at.markdown) and "**With retrieval**" in texts(
        at.markdown
    )
    assert any(":orange-background[" in m for m in texts(at.markdown))  # the chunk, highlighted
    shown = "\n".join(texts(at.markdown))
    assert WITHOUT in shown and WITH in shown
    question = "How does quantization shrink a model?"
    assert len(fake.prompts) == 2 and all(question in p[-1]["content"] for p in fake.prompts)
    without, with_sources = sorted(fake.prompts, key=lambda p: len(str(p)))
    assert len(str(with_sources)) > len(str(without)) + 500  # the retrieved chunks

    # A new, empty collection: asking it says so instead of failing.
    # A form: the typed name and the submit travel in one run, as in the browser.
    at.text_input(key=Keys.RAG_NEW_LABEL).input("Policies")
    at = rerun(button(at, "Create").click())
    assert (
        at.selectbox(key=Keys.RAG_COLLECTION).format_func(
            at.selectbox(key=Keys.RAG_COLLECTION).value
        )
        == "Policies · chunks of 800 chars"
    )
    at = rerun(button(at, "Ask").click())
    assert any("empty" in e.lower() for e in texts(at.error)), texts(at.error)

    policies = at.selectbox(key=Keys.RAG_COLLECTION).value
    at = rerun(at.checkbox(key=f"{Keys.RAG_DELETE}_{policies}").check())
    at = rerun(button(at, "Delete collection").click())
    assert (
        at.selectbox(key=Keys.RAG_COLLECTION)
        .format_func(at.selectbox(key=Keys.RAG_COLLECTION).value)
        .startswith(STARTER_LABEL)
    )
    # A tick confirms one deletion: it never carries over to the next collection.
    assert not any(c.value for c in at.checkbox if c.label.startswith("Yes, delete the whole"))

    # A document is deleted only from its confirmation (inside the Delete popover).
    assert not [b for b in at.button if b.label == "Delete"]
    before = next(c for c in texts(at.caption) if " documents · " in c)
    at = rerun([b for b in at.button if b.label == "Yes, delete it"][0].click())
    after = next(c for c in texts(at.caption) if " documents · " in c)
    assert int(after.split()[0]) == int(before.split()[0]) - 1, (before, after)


@pytest.mark.slow
def test_retrieval_quality_on_the_starter(at):
    at = rerun(at.slider(key=Keys.RAG_QUALITY + "_n").set_value(5))
    at = rerun(button(at, "Measure retrieval quality").click())
    labels = [m.label for m in at.metric]
    assert "Hit rate@4" in labels and "MRR" in labels
    [table] = [d.value for d in at.dataframe if "question" in d.value.columns]
    assert len(table) == 5


def test_an_endpoint_answers_from_the_sources(make_app, project, home, llama_url):
    """No local generator at all: retrieval is local, the answer comes from the server."""
    from lifecycle.settings import Endpoint, Settings, save_settings
    from tests.conftest import API_KEY

    save_settings(Settings(endpoints=(Endpoint("llama", llama_url, "smollm2", "RAG_TEST_KEY"),)))
    at = make_app()
    at.secrets["RAG_TEST_KEY"] = API_KEY
    at = goto(at, PAGE)
    at = rerun(at.selectbox(key=Keys.RAG_MODEL).set_value("endpoint:llama"))
    at = rerun(at.text_input(key=Keys.RAG_QUESTION).input("What does LoRA train?"))
    at = rerun(button(at, "Ask").click())
    assert not at.error, texts(at.error)
    sources = [e.label for e in at.expander if e.label.startswith("[")]
    assert len(sources) == 3, sources
    assert "**With retrieval**" in texts(at.markdown)
    assert any("≈" in c and "completion tokens" in c for c in texts(at.caption)), texts(at.caption)
