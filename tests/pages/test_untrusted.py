"""Text the app did not write (model answers, project names) reaches the page inert."""

from __future__ import annotations

import pytest

from components.state import Keys
from lifecycle.settings import Endpoint, Settings, save_settings
from tests.hostile_servers import MODEL, hostile_answer, markdown_endpoint
from tests.markdown_checks import assert_inert, shown

from .helpers import button, goto, rerun, texts

RECORDER = "http://127.0.0.1:9"  # never contacted: AppTest has no browser
ANSWER = hostile_answer(RECORDER)
IMAGE, LINK = f"![x]({RECORDER}/img)", f"[click]({RECORDER}/link)"
NAME = "**bold** [link](http://example.com)"  # the project name of the issue


@pytest.fixture
def endpoint(home):
    """A saved endpoint `fake` that answers every prompt with hostile Markdown."""
    with markdown_endpoint(ANSWER) as url:
        save_settings(Settings(endpoints=(Endpoint("fake", url, MODEL, ""),)))
        yield "endpoint:fake"


def assert_shown_inert(values: list[str]) -> None:
    """The hostile answer is on the page, as text, with no live link or image."""
    assert values, "no answer on the page"
    for value in values:
        assert_inert(value)
        assert IMAGE in shown(value) and LINK in shown(value), value


def test_the_playground_shows_a_hostile_answer_as_text(make_app, project, store, endpoint):
    store.put_record(project.id, "scope", {"primary_task": "summarization"})
    at = goto(make_app(), "app_pages/playground.py")
    at = rerun(at.selectbox(key=Keys.PLAY_MODEL).set_value(endpoint))
    [run] = [b for b in at.button if b.label == "Run"]
    at = rerun(run.click())  # streamed
    assert not at.error, texts(at.error)
    streamed = [m.value for c in at.chat_message for m in c.markdown]
    assert_shown_inert(streamed)
    at = rerun(at)  # shown again from the session, after the stream
    assert_shown_inert([m.value for c in at.chat_message for m in c.markdown])


@pytest.mark.slow
def test_rag_answers_and_tool_replies_show_as_text(make_app, project, endpoint):
    at = make_app()
    at.session_state[Keys.RAG_MODEL] = endpoint  # the answering model, before the page loads
    at = goto(at, "app_pages/rag.py")
    at = rerun(button(at, "Ask").click())
    answers = [m.value for m in at.markdown if IMAGE in shown(m.value)]
    assert len(answers) == 2, texts(at.markdown)  # without and with retrieval
    assert_shown_inert(answers)
    at = rerun(button(at, "Answer both ways").click())
    replies = [m.value for m in at.markdown if IMAGE in shown(m.value)]
    assert len(replies) == 3, texts(at.markdown)  # the two answers above and the tool's
    assert_shown_inert(replies)
    for message in texts(at.warning) + texts(at.error):  # the calculator quotes the reply
        assert_inert(message)


def test_a_markdown_project_name_is_shown_as_typed(make_app, store):
    at = make_app()
    at.text_input(key=Keys.HOME_NEW_NAME).input(NAME)
    at = rerun(at.button(key=f"FormSubmitter:{Keys.HOME_NEW_FORM}-Create project").click())
    [toast] = texts(at.toast)
    heading = next(s for s in texts(at.subheader) if s.startswith("Project: "))
    for text in (toast, heading):
        assert_inert(text)
        assert NAME in shown(text)
    checkbox = next(c.label for c in at.checkbox if c.label.startswith("Yes, delete"))
    assert_inert(checkbox)
    assert NAME in shown(checkbox)
