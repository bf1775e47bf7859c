"""Truncation cuts the input (not the prompt's start); long prompts show signs of life."""

from __future__ import annotations

import threading
import time

import pytest

from lifecycle.models import ContextError, GenParams, generate, load_model, stream
from lifecycle.models.fitting import CUT_MARK, fit_context
from lifecycle.models.progress import (
    Progress,
    heartbeat,
    prefill_rate,
    record_prefill,
    waiting_line,
)
from lifecycle.prompting import PromptError, PromptSpec, fit_prompt
from lifecycle.tasks import Demonstration
from tests.fake_model import install

SYSTEM = "you are a helpful assistant ."
SPEC = PromptSpec(
    system=SYSTEM,
    instruction="summarise the dialogue .",
    template="dialogue :\n{input}\nsummary :",
    shots=1,
    examples=(Demonstration("alice : hi", "alice greets ."),),
)
LONG = " ".join(f"word{i % 50}" for i in range(3000))


@pytest.fixture(scope="module")
def causal(tiny_causal):
    return load_model(str(tiny_causal))


@pytest.fixture
def fake():
    return install()


def test_fit_prompt_cuts_the_end_of_the_input_and_keeps_everything_else(causal):
    params = GenParams(max_new_tokens=8, truncate=True)
    fitted = fit_prompt(causal, SPEC, {"input": LONG}, params)
    room = causal.context_window - 8
    assert room - 12 <= fitted.prompt_tokens <= room
    assert fitted.dropped_tokens > 0 and 0 < fitted.kept_chars < len(LONG)
    system, shot_in, shot_out, last = fitted.messages
    assert system["content"] == SYSTEM
    assert shot_in["content"] == "summarise the dialogue .\n\ndialogue :\nalice : hi\nsummary :"
    assert shot_out["content"] == "alice greets ."
    head = "summarise the dialogue .\n\ndialogue :\n"
    assert last["content"].startswith(head + LONG[:200])  # the input's start is kept
    assert last["content"].endswith(CUT_MARK + "\nsummary :")  # ... the template's end too
    assert fitted.prompt_tokens == causal.count_tokens(fitted.messages)


def test_fit_prompt_refuses_without_truncation_and_says_what_truncation_keeps(causal):
    with pytest.raises(ContextError, match="cuts the end of the input"):
        fit_prompt(causal, SPEC, {"input": LONG}, GenParams(max_new_tokens=8))
    short = fit_prompt(causal, SPEC, {"input": "alice : hi"}, GenParams(max_new_tokens=8))
    assert short.dropped_tokens == 0 and short.kept_chars is None


def test_a_prompt_too_long_without_its_input_is_a_clear_message(causal):
    huge = PromptSpec(instruction=LONG, template="{input}")
    with pytest.raises(PromptError, match="Without its input"):
        fit_prompt(causal, huge, {"input": "x"}, GenParams(max_new_tokens=8, truncate=True))


def test_a_runtime_truncating_keeps_the_system_message_and_the_question(causal):
    """The runtimes' own net (any prompt): the start of the prompt was what it dropped."""
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"sources :\n{LONG}\n\nquestion : what is lora ?"},
    ]
    run = stream(causal, messages, GenParams(max_new_tokens=8, truncate=True))
    read = causal.tokenizer.decode(run.ids)
    assert SYSTEM in read and "question : what is lora ?" in read
    assert run.result.truncated_tokens > 0
    assert run.result.prompt_tokens <= causal.context_window - 8


def test_fit_context_passes_a_prompt_that_fits_untouched(fake):
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "hello there"}]
    assert fit_context(fake, messages, GenParams()) == (messages, 0)


def test_heartbeat_speaks_while_the_stream_is_silent():
    def slow():
        time.sleep(0.35)
        yield "a"
        yield "b"

    chunks = list(heartbeat(slow(), every=0.1))
    assert chunks[-2:] == ["a", "b"] and chunks[:-2] and set(chunks[:-2]) == {""}


def test_heartbeat_passes_errors_and_closes_the_stream():
    closed = []

    def failing():
        try:
            yield "a"
            raise ValueError("boom")
        finally:
            closed.append(True)

    with pytest.raises(ValueError, match="boom"):
        list(heartbeat(failing(), every=0.1))
    assert closed == [True]


def test_waiting_lines_say_queue_progress_or_an_estimate():
    queued = Progress(8000)
    assert "Waiting for another tab" in waiting_line(queued, now=queued.since + 12)
    counted = Progress(8000)
    counted.enter("prompt", lambda: 2048)
    assert "2,048 of 8,000 tokens (26%)" in waiting_line(counted)
    timed = Progress(8000)
    timed.enter("prompt")
    line = waiting_line(timed, rate=200.0, now=timed.since + 10)
    assert "8,000 tokens" in line and "about 30 s left" in line and "200 tokens/s" in line
    assert "10 s so far" in waiting_line(timed, now=timed.since + 10)


def test_prefill_speed_is_remembered_per_model():
    record_prefill("fake:speed", 4000, 20.0)
    record_prefill("fake:speed", 10, 5.0)  # too short a prompt to time the reading
    assert prefill_rate("fake:speed") == 200.0


def test_the_queue_wait_is_counted_and_the_phase_is_shown(fake):
    fake.enqueue("first answer", "second answer")
    first = stream(fake, [{"role": "user", "content": "one"}], GenParams())
    second = stream(fake, [{"role": "user", "content": "two"}], GenParams())
    assert second.progress.phase == "queued"
    fake.lock.acquire()  # another tab's generation holds the model
    releaser = threading.Timer(0.3, fake.lock.release)
    releaser.start()
    assert "".join(second) == "second answer"
    assert second.result.queue_s >= 0.25 and second.result.total_s >= second.result.queue_s
    assert second.progress.phase == "answer"
    assert "".join(first) == "first answer" and first.result.queue_s < 0.25


def test_transformers_counts_the_queue_too(causal):
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hello"}]
    causal.lock.acquire()
    threading.Timer(0.3, causal.lock.release).start()
    result = generate(causal, messages, GenParams(max_new_tokens=2))
    assert result.queue_s >= 0.25


def test_the_server_log_view_leaves_out_llama_cpp_graph_debug_lines():
    from lifecycle.serving import local_server

    lines = ["llama_context: n_ctx = 2048", "create_tensor: loading tensor blk.0"]
    lines += ["llama_graph_n_input_tensors: 3"] * 900 + ['INFO: "POST /v1/chat" 200 OK']
    local_server.log_file().write_text("\n".join(lines) + "\n")
    assert local_server.readable_log(40) == [lines[0], lines[-1]]


def test_an_evaluation_cuts_an_over_long_input_the_same_way(fake):
    from lifecycle.evaluation.runs import Candidate
    from lifecycle.evaluation.shots import prompt_predictor

    fake.context_window = 60  # words, for the fake
    cand = Candidate("c", "fake:model", SPEC, GenParams(max_new_tokens=8, truncate=True))
    result = prompt_predictor(fake, cand)(LONG)
    sent = fake.prompts[-1]
    assert sent[0]["content"] == SYSTEM and sent[-1]["content"].endswith(CUT_MARK + "\nsummary :")
    assert result.truncated_tokens > 0


def test_an_endpoints_estimate_refuses_nothing_the_server_may_take(fake):
    fake.exact_tokens = False
    try:
        fitted = fit_prompt(fake, SPEC, {"input": LONG}, GenParams(max_new_tokens=8))
    finally:
        fake.exact_tokens = True
    assert fitted.dropped_tokens == 0 and fitted.messages[-1]["content"].count("word") > 2000
