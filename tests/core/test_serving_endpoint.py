"""The OpenAI-compatible backend against a real llama.cpp server and odd loopback servers.

No test names the words the model says: greedy text differs between CPUs and llama.cpp builds,
and a llama.cpp server's answer even depends on what it read before (it reuses the cached prompt
prefix and re-reads only the last token, whose logits differ in the last bits). So each test
first asks once, to put the server in the same state, then compares answers given from that
state: ours with a raw HTTP request, streamed with whole, stopped with complete.
"""

from dataclasses import replace

import httpx
import pytest

from lifecycle.models import GenParams, generate, stream
from lifecycle.serving.endpoint_health import list_models
from lifecycle.serving.endpoint_health import test_connection as connection_check
from lifecycle.serving.openai_api import EndpointError, open_endpoint, request_body
from lifecycle.settings import Endpoint, SettingsError, load_settings, save_settings
from tests.conftest import API_KEY
from tests.servers import free_port, odd_server

ASK = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture
def ep(llama_url) -> Endpoint:
    """The session's llama.cpp server as an endpoint (a short timeout: it answers in ~1 s)."""
    return Endpoint("local", llama_url, "smollm2", key_name="LLAMA_KEY", timeout_s=30)


@pytest.fixture
def lm(ep):
    """Our handle on the server, after one request that leaves the server's cache on ASK."""
    handle = open_endpoint(ep, API_KEY)
    generate(handle, ASK, GenParams(max_new_tokens=4))
    return handle


def raw_chat(ep: Endpoint, max_tokens: int) -> dict:
    """The server's own answer to a plain greedy chat request, without our code."""
    body = {"model": ep.model, "messages": ASK, "max_tokens": max_tokens, "temperature": 0.0}
    auth = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.post(f"{ep.base_url}/chat/completions", json=body, headers=auth, timeout=30)
    response.raise_for_status()
    return response.json()


def test_a_non_streamed_answer_reports_the_servers_token_usage(ep, lm, llama_installed):
    from lifecycle.serving.llamacpp import load_llamacpp

    result = generate(lm, ASK, GenParams(max_new_tokens=24))
    raw = raw_chat(ep, 24)
    assert result.text.strip() and result.text == raw["choices"][0]["message"]["content"]
    assert result.counts == "exact"
    assert result.completion_tokens == raw["usage"]["completion_tokens"] <= 24
    assert (
        result.finish_reason
        == {"stop": "eos", "length": "length"}[raw["choices"][0]["finish_reason"]]
    )
    # The server applies the GGUF's own chat template: the tokenizer's count in-process.
    assert result.prompt_tokens == raw["usage"]["prompt_tokens"]
    assert result.prompt_tokens == load_llamacpp().count_tokens(ASK)
    capped = generate(lm, ASK, GenParams(max_new_tokens=3))
    assert capped.completion_tokens == 3 and capped.finish_reason == "length"


def test_streaming_yields_pieces_with_a_first_token_time(lm):
    whole = generate(lm, ASK, GenParams(max_new_tokens=24))
    run = stream(lm, ASK, GenParams(max_new_tokens=24))
    pieces = list(run)
    assert len(pieces) > 2 and "".join(pieces) == run.result.text == whole.text
    assert 0 < run.result.ttft_s < run.result.latency_s
    assert run.result.finish_reason == whole.finish_reason
    # llama.cpp sends no usage while streaming: counts are marked as estimated, not faked exact
    assert run.result.counts == "estimated" and run.result.completion_tokens == len(pieces)


def test_stopping_a_stream_keeps_the_text_so_far(lm):
    whole = generate(lm, ASK, GenParams(max_new_tokens=64)).text
    run = stream(lm, ASK, GenParams(max_new_tokens=64))
    got = ""
    for piece in run:
        got += piece
        if len(got) > 5:
            break
    assert got and whole.startswith(got)
    first = generate(lm, ASK, GenParams(max_new_tokens=9)).text
    assert first and whole.startswith(first)


def test_a_stop_sequence_from_the_models_own_answer_cuts_there(lm):
    whole = generate(lm, ASK, GenParams(max_new_tokens=24)).text
    words = [w for w in whole.split() if len(w) >= 3 and whole.find(w) > 0]
    assert words, f"no word to stop at in {whole!r}"
    stop = words[len(words) // 2]
    cut = generate(lm, ASK, GenParams(max_new_tokens=24, stop=(stop,)))
    assert cut.text == whole[: whole.find(stop)]


def test_greedy_requests_repeat_and_sampling_follows_the_seed(lm):
    greedy = GenParams(max_new_tokens=16)
    assert generate(lm, ASK, greedy).text == generate(lm, ASK, greedy).text
    hot = GenParams(max_new_tokens=16, do_sample=True, temperature=1.2, seed=7)
    assert generate(lm, ASK, hot).text == generate(lm, ASK, hot).text


def test_connection_test_lists_models_and_names_an_unknown_model(ep):
    assert list_models(ep, API_KEY) == ["smollm2"]
    ok = connection_check(ep, API_KEY)
    assert ok.ok and ok.line.startswith("Connected: smollm2 answers")
    wrong = connection_check(replace(ep, model="gpt-4o"), API_KEY)
    assert not wrong.ok
    assert wrong.line == "The server does not serve “gpt-4o”; it serves: smollm2."


def test_a_wrong_or_missing_key_is_named_not_shown(ep):
    for key in ("wrong-key", ""):
        with pytest.raises(EndpointError, match=r"refused the API key \(HTTP 401\)") as err:
            generate(open_endpoint(ep, key), ASK, GenParams(max_new_tokens=4))
        assert "LLAMA_KEY" in str(err.value)
        assert "wrong-key" not in str(err.value)
    lm = open_endpoint(ep, API_KEY)
    assert API_KEY not in repr(lm) and API_KEY not in str(lm)


def test_a_server_that_is_down_gets_a_clear_message():
    down = Endpoint("down", f"http://127.0.0.1:{free_port()}/v1", "m", retries=1)
    with pytest.raises(EndpointError, match=r"^Cannot reach http://127\.0\.0\.1:\d+/v1 \("):
        generate(open_endpoint(down), ASK, GenParams(max_new_tokens=4))
    health = connection_check(down)
    assert not health.ok and "Is the server running" in health.line


def test_a_slow_server_times_out_with_the_limit_named():
    with odd_server() as base:
        slow = Endpoint("slow", f"{base}/silent/v1", "m", timeout_s=1, retries=0)
        with pytest.raises(EndpointError, match=r"sent nothing for 1 s \(model m\)"):
            generate(open_endpoint(slow), ASK, GenParams(max_new_tokens=4))


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("html", r"answered with an HTML page \(HTTP 502: 502 Bad Gateway\), not the OpenAI API"),
        ("notjson", r"answered with something that is not JSON: 'this is not json'"),
        ("nomodel", r"does not know the model “m” \(HTTP 404\): The model x does not exist"),
    ],
)
def test_odd_answers_are_explained(mode, message):
    with odd_server() as base:
        odd = Endpoint("odd", f"{base}/{mode}/v1", "m", retries=0)
        with pytest.raises(EndpointError, match=message):
            generate(open_endpoint(odd), ASK, GenParams(max_new_tokens=4))


def test_a_stream_cut_off_mid_answer_keeps_the_text_and_says_so():
    with odd_server() as base:
        run = stream(open_endpoint(Endpoint("cut", f"{base}/cutoff/v1", "m")), ASK, GenParams())
        got = []
        with pytest.raises(EndpointError, match=r"closed the stream mid-answer \(after 5 char"):
            for piece in run:
                got.append(piece)
        assert got == ["Hello"] and run.result.text == "Hello"


def test_a_busy_server_is_retried_before_the_first_token():
    with odd_server() as base:
        flaky = Endpoint("flaky", f"{base}/flaky/v1", "m", retries=1)
        assert generate(open_endpoint(flaky), ASK, GenParams()).text == "Hello"
        with odd_server() as fresh:  # no retries: the 503 is reported
            once = Endpoint("flaky", f"{fresh}/flaky/v1", "m", retries=0)
            with pytest.raises(EndpointError, match="answered HTTP 503: warming up"):
                generate(open_endpoint(once), ASK, GenParams())


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8080/v1", "htp://x/v1", "http://", "http://host:port/v1", "http://a b/v1"]
)
def test_malformed_urls_are_refused_before_any_request(url):
    with pytest.raises(EndpointError, match="URL|port"):
        open_endpoint(Endpoint("bad", url, "m"))


def test_the_request_maps_our_decoding_settings():
    greedy = request_body("m", ASK, GenParams(max_new_tokens=9), stream=True)
    assert greedy["temperature"] == 0.0 and greedy["max_tokens"] == 9
    assert "top_p" not in greedy and greedy["stream_options"] == {"include_usage": True}
    hot = request_body(
        "m", ASK, GenParams(do_sample=True, top_k=5, repetition_penalty=1.2, stop=("##",)), False
    )
    assert hot["top_k"] == 5 and hot["repeat_penalty"] == hot["repetition_penalty"] == 1.2
    assert hot["stop"] == ["##"] and "stream_options" not in hot


def test_endpoints_are_saved_without_keys_and_bad_ones_refused():
    good = Endpoint("vllm", "http://127.0.0.1:8000/v1/", "Qwen/Qwen2.5-0.5B", "VLLM_KEY")
    save_settings(load_settings().__class__(endpoints=(good,)))
    assert load_settings().endpoint("vllm") == good
    with pytest.raises(SettingsError, match="name of an environment variable"):
        replace(good, key_name="sk-123 456").check()
    with pytest.raises(SettingsError, match="share a name"):
        save_settings(load_settings().__class__(endpoints=(good, good)))
