"""The llama.cpp fast path: in-process generation and the managed local server.

Greedy text of a quantized model differs between CPUs and llama.cpp builds, so no test names the
words the model says: our path must give what raw llama_cpp gives on this machine, and the
limits (stops, max tokens, token counts) must hold.
"""

import os
import threading
from pathlib import Path

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
from lifecycle.serving.endpoint_http import EndpointError
from lifecycle.settings import Endpoint, Settings
from tests.servers import free_port
from tests.sockets import is_loopback, listening, process_tree

ASK = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture(scope="module")
def fast(llama_installed):
    """The embedded GGUF loaded by llama.cpp (about 0.2 s)."""
    from lifecycle.serving.llamacpp import load_llamacpp

    return load_llamacpp("embedded", threads=2)


@pytest.fixture(scope="module")
def raw(llama_installed):
    """What raw llama_cpp answers on this machine: greedy, 24 new tokens, the same settings."""
    from llama_cpp import Llama

    from lifecycle.models.sources import embedded_gguf

    llm = Llama(model_path=str(embedded_gguf()), n_ctx=8192, n_threads=2, verbose=False)
    try:
        out = llm.create_chat_completion(
            messages=ASK,
            max_tokens=24,
            temperature=0.0,
            top_k=1,
            top_p=1.0,
            repeat_penalty=1.0,
            seed=0,
        )
    finally:
        llm.close()
    choice = out["choices"][0]
    return {"text": choice["message"]["content"], "finish": choice["finish_reason"], **out}


def stop_from(text: str) -> str:
    """A stop string taken from the model's own answer: a word after its first character."""
    words = [w for w in text.split() if len(w) >= 3 and text.find(w) > 0]
    assert words, f"no word to stop at in {text!r}"
    return words[len(words) // 2]


def test_the_embedded_model_answers_on_llama_cpp_as_raw_llama_cpp_does(fast, raw):
    assert fast.ref == LLAMA_EMBEDDED and is_served(fast.ref)
    assert fast.runtime.startswith("llama.cpp in-process, 2 threads")
    assert fast.context_window == 8192 and fast.exact_tokens
    text = render_prompt(fast, ASK)
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
    assert text.endswith("<|im_start|>assistant\n")
    # The tokenizer is part of the GGUF: its counts are the same on every machine.
    assert count_tokens(fast, ASK) == len(fast.encode(ASK)) == 27
    assert raw["usage"]["prompt_tokens"] == 27
    result = generate(fast, ASK, GenParams(max_new_tokens=24))
    assert result.text.strip() and result.text == raw["text"]
    assert result.prompt_tokens == 27
    assert result.completion_tokens == raw["usage"]["completion_tokens"] <= 24
    assert result.finish_reason == {"stop": "eos", "length": "length"}[raw["finish"]]
    assert generate(fast, ASK, GenParams(max_new_tokens=24)).text == result.text  # greedy repeats


def test_sampling_follows_the_seed_and_stop_sequences_cut(fast, raw):
    hot = GenParams(max_new_tokens=20, do_sample=True, temperature=1.3, seed=11)
    assert generate(fast, ASK, hot).text == generate(fast, ASK, hot).text
    stop = stop_from(raw["text"])
    cut = generate(fast, ASK, GenParams(max_new_tokens=24, stop=(stop,)))
    assert cut.text == raw["text"][: raw["text"].find(stop)]
    assert cut.finish_reason == "eos/stop_sequence"
    short = generate(fast, ASK, GenParams(max_new_tokens=3))
    assert short.completion_tokens == 3 and short.finish_reason == "length"
    assert raw["text"].startswith(short.text) and short.text


def test_a_stream_stopped_mid_way_keeps_its_text_and_frees_the_model(fast):
    run = stream(fast, ASK, GenParams(max_new_tokens=64))
    for i, _piece in enumerate(run):
        if i == 2:
            break
    assert run.result.finish_reason == "cancelled" and run.result.text
    assert not fast.lock.locked()
    again = generate(fast, ASK, GenParams(max_new_tokens=8)).text
    assert again and generate(fast, ASK, GenParams(max_new_tokens=24)).text.startswith(again)


def test_prompts_over_the_window_are_refused_or_truncated(fast):
    long = [ASK[0], {"role": "user", "content": "word " * 9000}]
    with pytest.raises(ContextError, match="over the model's context window of 8,192"):
        stream(fast, long, GenParams(max_new_tokens=8))
    run = stream(fast, long, GenParams(max_new_tokens=8, truncate=True))
    assert run.result.truncated_tokens > 0 and 8192 - 24 <= run.result.prompt_tokens <= 8192 - 8
    read = fast.llm.detokenize(run.ids, special=True).decode(errors="replace")
    assert read.startswith("<|im_start|>system\n" + ASK[0]["content"])  # the start is kept


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


def test_the_managed_server_starts_answers_and_stops(fast):
    from lifecycle.serving.openai_api import open_endpoint

    port = free_port()
    try:
        up = ls.start(port, threads=2)
        assert up.running and up.healthy and up.port == port
        assert up.line == f"Running on 127.0.0.1:{port} (pid {up.pid}): healthy."
        assert ls.start(port).pid == up.pid  # starting again reuses the running server
        ep = ls.endpoint_for(port)
        answer = generate(open_endpoint(ep, ls.server_key()), ASK, GenParams(max_new_tokens=9))
        # The same GGUF and build as in-process, so the same greedy text.
        assert answer.text and answer.text == generate(fast, ASK, GenParams(max_new_tokens=9)).text
        assert answer.completion_tokens <= 9
        # Its own key: other local programs (and requests without it) are refused.
        assert ep.key_name == ls.KEY_NAME and ls.key_file().stat().st_mode & 0o777 == 0o600
        with pytest.raises(EndpointError, match=r"refused the API key \(HTTP 401\)"):
            generate(open_endpoint(ep), ASK, GenParams(max_new_tokens=2))
        assert ls.server_key() not in Path(f"/proc/{up.pid}/cmdline").read_text()
        # It listens on loopback only.
        addresses = listening(process_tree(up.pid))
        assert (("127.0.0.1", port)) in addresses
        assert all(is_loopback(host) for host, _ in addresses), addresses
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


def test_two_tabs_pressing_start_at_once_start_one_server(llama_installed, monkeypatch):
    port, results, errors = free_port(), [], []
    both_checked = threading.Barrier(2)
    port_free = ls.port_free

    def slow_port_free(p: int) -> bool:
        # Without a lock both tabs get here before either server binds the port.
        try:
            both_checked.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return port_free(p)

    monkeypatch.setattr(ls, "port_free", slow_port_free)

    def press_start() -> None:
        try:
            results.append(ls.start(port, threads=1))
        except ls.ServerError as err:
            errors.append(str(err))

    tabs = [threading.Thread(target=press_start) for _ in range(2)]
    try:
        for tab in tabs:
            tab.start()
        for tab in tabs:
            tab.join(90)
        assert not errors and len(results) == 2
        assert results[0].pid == results[1].pid == ls.state().pid
        servers = [
            pid
            for pid in (int(e.name) for e in Path("/proc").glob("[0-9]*"))
            if ls._alive(pid) and f"--port\0{port}\0" in _cmdline(pid)
        ]
        assert servers == [results[0].pid]
    finally:
        ls.stop()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def test_the_server_log_is_capped_and_one_old_log_is_kept(monkeypatch):
    monkeypatch.setattr(ls, "LOG_MAX_BYTES", 100)
    log = ls.log_file()
    log.write_text("old line\n" * 5)
    ls.rotate_log()  # under the cap: left alone
    assert log.read_text() == "old line\n" * 5
    log.write_text("first\n" * 30)
    ls.rotate_log()
    assert log.read_text() == "" and log.with_name(log.name + ".1").read_text() == "first\n" * 30
    log.write_text("second\n" * 30)
    ls.rotate_log()  # one old log: the older one is replaced
    assert log.with_name(log.name + ".1").read_text() == "second\n" * 30


def test_the_server_key_is_made_once_private_and_random(isolated_home):
    key = ls.server_key()
    assert len(key) >= 40 and key == ls.server_key()
    assert ls.key_file().stat().st_mode & 0o777 == 0o600
    ls.key_file().write_text("")  # an emptied key file gets a new key
    assert ls.server_key() not in ("", key)
