"""The llama.cpp fast path: in-process generation and the managed local server."""

import os

import pytest

from lifecycle.models import ContextError, GenParams, ModelLoadError, generate, stream
from lifecycle.models.generation import count_tokens, render_prompt
from lifecycle.serving import (
    LLAMA_EMBEDDED,
    default_ref,
    embedded_runtime,
    is_served,
    serving_choices,
)
from lifecycle.serving import local_server as ls
from lifecycle.settings import Endpoint, Settings
from tests.servers import free_port

ASK = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture(scope="module")
def fast(llama_installed):
    """The embedded GGUF loaded by llama.cpp (about 0.2 s)."""
    from lifecycle.serving.llamacpp import load_llamacpp

    return load_llamacpp("embedded", threads=2)


def test_the_embedded_model_answers_on_llama_cpp(fast):
    assert fast.ref == LLAMA_EMBEDDED and is_served(fast.ref)
    assert fast.runtime.startswith("llama.cpp in-process, 2 threads")
    assert fast.context_window == 8192 and fast.exact_tokens
    text = render_prompt(fast, ASK)
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
    assert text.endswith("<|im_start|>assistant\n")
    assert count_tokens(fast, ASK) == len(fast.encode(ASK)) == 27
    result = generate(fast, ASK, GenParams(max_new_tokens=24))
    assert result.text == "The capital of France is Paris."
    assert result.prompt_tokens == 27 and result.finish_reason == "eos"
    assert generate(fast, ASK, GenParams(max_new_tokens=24)).text == result.text  # greedy repeats


def test_sampling_follows_the_seed_and_stop_sequences_cut(fast):
    hot = GenParams(max_new_tokens=20, do_sample=True, temperature=1.3, seed=11)
    assert generate(fast, ASK, hot).text == generate(fast, ASK, hot).text
    cut = generate(fast, ASK, GenParams(max_new_tokens=24, stop=("Paris",)))
    assert cut.text == "The capital of France is " and cut.finish_reason == "eos/stop_sequence"
    short = generate(fast, ASK, GenParams(max_new_tokens=3))
    assert short.completion_tokens == 3 and short.finish_reason == "length"


def test_a_stream_stopped_mid_way_keeps_its_text_and_frees_the_model(fast):
    run = stream(fast, ASK, GenParams(max_new_tokens=64))
    for i, _piece in enumerate(run):
        if i == 2:
            break
    assert run.result.finish_reason == "cancelled" and run.result.text
    assert not fast.lock.locked()
    assert generate(fast, ASK, GenParams(max_new_tokens=8)).text.startswith("The capital")


def test_prompts_over_the_window_are_refused_or_truncated(fast):
    long = [ASK[0], {"role": "user", "content": "word " * 9000}]
    with pytest.raises(ContextError, match="over the model's context window of 8,192"):
        stream(fast, long, GenParams(max_new_tokens=8))
    run = stream(fast, long, GenParams(max_new_tokens=8, truncate=True))
    assert run.result.truncated_tokens > 0 and run.result.prompt_tokens == 8192 - 8


def test_a_missing_gguf_is_a_clear_load_error(llama_installed, tmp_path):
    from lifecycle.serving.llamacpp import load_llamacpp

    with pytest.raises(ModelLoadError, match="There is no GGUF file at"):
        load_llamacpp(str(tmp_path / "nope.gguf"))


def test_the_runtime_choice_follows_settings_and_the_override(monkeypatch, llama_installed):
    monkeypatch.delenv("LIFECYCLE_EMBEDDED_RUNTIME")
    assert embedded_runtime(Settings()) == "llama.cpp"  # auto: llama.cpp is installed
    assert default_ref(Settings()) == LLAMA_EMBEDDED
    assert embedded_runtime(Settings(embedded_runtime="transformers")) == "transformers"
    monkeypatch.setenv("LIFECYCLE_EMBEDDED_RUNTIME", "transformers")
    assert default_ref(Settings()) == "embedded:SmolLM2-135M-Instruct"
    ep = Endpoint("vllm", "http://127.0.0.1:8000/v1", "qwen")
    choices = serving_choices(Settings(endpoints=(ep,)))
    assert list(choices) == ["embedded:SmolLM2-135M-Instruct", LLAMA_EMBEDDED, "endpoint:vllm"]
    assert choices["endpoint:vllm"] == "Endpoint vllm: qwen"


def test_the_managed_server_starts_answers_and_stops(llama_installed):
    from lifecycle.serving.openai_api import open_endpoint

    port = free_port()
    try:
        up = ls.start(port, threads=2)
        assert up.running and up.healthy and up.port == port
        assert up.line == f"Running on 127.0.0.1:{port} (pid {up.pid}): healthy."
        assert ls.start(port).pid == up.pid  # starting again reuses the running server
        answer = generate(open_endpoint(ls.endpoint_for(port)), ASK, GenParams(max_new_tokens=9))
        assert answer.text.startswith("The capital of France")
    finally:
        ls.stop()
    down = ls.state()
    assert not down.running and down.line == "Not running."
    with pytest.raises(OSError):
        os.kill(up.pid, 0)


def test_the_managed_server_refuses_a_port_in_use(llama_installed):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ls.ServerError, match=f"Port {port} is in use by another program"):
            ls.start(port)
