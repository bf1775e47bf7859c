"""First visits: the fine-tune and RAG pages draw at once while their model, embedder and vector
store load in the background (held here by an event inside the same loaders), then the real
content once the load is done."""

from __future__ import annotations

import shutil
import threading

import pytest

import lifecycle.models
import lifecycle.rag
from components.background import STATUS_NOTE
from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.rag import STARTER_LABEL
from lifecycle.text import md_escape
from tests.conftest import link_embedded

from .helpers import goto, rerun, texts

WAIT = 600  # s: generous, for a loaded machine
ROWS = [
    {"id": str(i), "input": f"alice: lunch at noon ? {i}", "output": "lunch at noon ."}
    for i in range(12)
]


def statuses(at) -> list[str]:
    """The background loads' status lines in view."""
    return [p.proto.text for p in at.get("progress") if STATUS_NOTE in p.proto.text]


@pytest.fixture
def gate():
    """An event the held loaders wait for: the test opens it."""
    gate = threading.Event()
    yield gate
    gate.set()  # never leave a thread waiting after the test


def test_fine_tune_draws_while_its_base_model_loads(
    make_app, project, store, tiny_causal, tmp_path, monkeypatch, gate
):
    # A copy: a folder no other test loaded, so the load really happens here.
    base = shutil.copytree(tiny_causal, tmp_path / "tiny-base")
    real, asked = lifecycle.models.load_model, []

    def held(ref, *args, **kwargs):
        asked.append(ref)
        assert gate.wait(WAIT)
        return real(ref, *args, **kwargs)

    monkeypatch.setattr(lifecycle.models, "load_model", held)  # what get_model calls
    store.put_record(
        project.id,
        "finetune_set",
        {"name": "tiny.jsonl", "task_id": "summarization", "examples": ROWS},
        key="tinyhash",
    )
    at = make_app()
    at.session_state[Keys.FT_SOURCE] = "upload:tinyhash"
    at.session_state[Keys.FT_MODEL] = OTHER
    at.session_state[other_key(Keys.FT_MODEL)] = str(base)
    at.session_state[Keys.FT_SET + "max_len"] = 2048  # the tiny tokenizer spells bytes out
    at.session_state[Keys.FT_SET + "batch"] = 4

    at.switch_page("app_pages/finetune.py").run()  # returns while the load is held
    assert not at.exception, at.exception
    [status] = statuses(at)
    assert f"Loading {md_escape(str(base))}: " in status, status
    assert at.selectbox(key=Keys.FT_MODEL).value == OTHER  # the controls are there
    assert {"New run", "Runs (0)", "Try it and evaluate"} <= {t.label for t in at.tabs}
    assert "The settings and the data report appear once the base model has loaded." in texts(
        at.info
    )
    assert "Before launch" not in texts(at.subheader)
    at.run()  # another run follows the same load, it does not start a second one
    assert not at.exception and statuses(at) and asked == [str(base)]

    gate.set()
    at = rerun(at)  # waits for the load to end, as the status fragment's rerun does
    assert not statuses(at)
    assert "Before launch" in texts(at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == "12" and metrics["Train / validation"] == "11 / 1"
    assert int(metrics["Trainable parameters"].replace(",", "")) > 0
    assert asked == [str(base)]


@pytest.mark.slow
def test_rag_draws_while_the_vector_store_opens(
    make_app, project, home, embedded_models, monkeypatch, gate
):
    link_embedded(embedded_models, home)
    real = lifecycle.rag.VectorStore

    def held(config):
        assert gate.wait(WAIT)
        return real(config)

    monkeypatch.setattr(lifecycle.rag, "VectorStore", held)  # what get_vector_store builds
    at = make_app()
    at.switch_page("app_pages/rag.py").run()
    assert not at.exception, at.exception
    assert any("Opening the vector store and the embedder" in s for s in statuses(at))
    assert at.radio(key=Keys.RAG_STORE + "kind").value == "embedded"  # the switch stays usable
    assert at.selectbox(key=Keys.RAG_MODEL)  # and so does the model picker
    assert {"Ask", "Documents", "Retrieval quality", "Tools (calculator)"} <= {
        t.label for t in at.tabs
    }
    assert "The collections appear here once the vector store is open (its status is above)." in (
        texts(at.info)
    )
    assert not [s for s in at.selectbox if s.key == Keys.RAG_COLLECTION]

    gate.set()
    at = rerun(at)
    assert not statuses(at)
    picked = at.selectbox(key=Keys.RAG_COLLECTION)
    assert picked.format_func(picked.value).startswith(f"{STARTER_LABEL} · chunks of")
    assert any(" chunks · " in c for c in texts(at.caption))  # the documents' real counts


def test_a_failed_load_says_why_and_can_be_tried_again(make_app, project, tmp_path):
    at = make_app()
    at.session_state[Keys.FT_MODEL] = OTHER
    at.session_state[other_key(Keys.FT_MODEL)] = str(tmp_path / "no-such-model")
    at = goto(at, "app_pages/finetune.py")
    assert any("no-such-model" in e for e in texts(at.error)), texts(at.error)
    assert [b for b in at.button if b.label == "Try again"]
    assert not statuses(at)
