"""A data folder setup did not prepare: the page shows the embedded model's conversion running
in the background and goes on; it does not wait for it."""

from __future__ import annotations

import threading

from lifecycle.models import sources
from tests.conftest import link_embedded

from .helpers import goto, rerun, texts

WAIT = 600  # s: generous, for a loaded machine


def progress_texts(at) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def test_the_fine_tune_page_goes_on_while_the_model_converts(
    make_app, project, home, embedded_models, monkeypatch
):
    gate, asked = threading.Event(), []

    def convert(on_step):
        asked.append(1)
        on_step("De-quantizing the weights", 0.3)
        assert gate.wait(WAIT)
        link_embedded(embedded_models, home)  # the converted copy appears, as a real one would
        on_step("Ready", 1.0)

    monkeypatch.setattr(sources, "convert_embedded", convert)
    at = goto(make_app(), "app_pages/finetune.py")  # returns: nothing waits on the gate
    shown = progress_texts(at)
    assert any("Preparing the embedded model" in t for t in shown), shown
    assert any(t.startswith("Runs (") for t in [tab.label for tab in at.tabs])  # the rest drew
    at = rerun(at)  # another rerun does not start a second conversion
    assert len(asked) == 1

    gate.set()
    for _ in range(50):  # the thread ends within moments; each run checks again
        at = rerun(at)
        if not any("Preparing the embedded model" in t for t in progress_texts(at)):
            break
    assert not any("Preparing the embedded model" in t for t in progress_texts(at))
    assert "Before launch" in texts(at.subheader)  # the model loaded: the data report is there
