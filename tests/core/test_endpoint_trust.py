"""Endpoint answers and keys a careless user or a hostile server can produce: clear errors only.

Every test runs against the misbehaving loopback servers of tests/servers.py or on plain text:
no model is involved.
"""

from __future__ import annotations

import json
import traceback

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.models import GenParams, generate, stream
from lifecycle.models.generation import GenerationResult
from lifecycle.serving import endpoint_events, endpoint_http, openai_api
from lifecycle.serving.endpoint_events import apply_event, json_event, sse_events
from lifecycle.serving.endpoint_health import list_models
from lifecycle.serving.endpoint_health import test_connection as connection_check
from lifecycle.serving.endpoint_http import EndpointError, scrub
from lifecycle.serving.openai_api import EndpointModel, open_endpoint
from lifecycle.settings import Endpoint
from tests.servers import GOOD_KEY, odd_server

ASK = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Say hello."},
]
SHORT = GenParams(max_new_tokens=4)
SECRET = "sk-Zq8vW3xT9pL2mN4bK7"  # random-looking, so no message word can match part of it


def auth_endpoint(base: str) -> Endpoint:
    return Endpoint("auth", f"{base}/auth/v1", "m", key_name="MY_KEY", retries=0, timeout_s=5)


def assert_no_part_of(key: str, text: str) -> None:
    """Not the key, nor any 4 consecutive characters of it (stripped of whitespace)."""
    core = key.strip()
    for i in range(len(core) - 3):
        assert core[i : i + 4] not in text, f"{core[i : i + 4]!r} of the key shown in: {text}"


@pytest.mark.parametrize("tail", [" ", "\n", "\r\n", "\t ", " \n"])
def test_a_key_pasted_with_whitespace_around_it_still_works(tail):
    with odd_server() as base:
        ep = auth_endpoint(base)
        key = " " + GOOD_KEY + tail
        assert generate(open_endpoint(ep, key), ASK, SHORT).text == "Hello"
        assert list_models(ep, key) == ["m"]
        health = connection_check(ep, key)
        assert health.ok, health.line


BAD_KEYS = {
    "inner space": ("sk-Zq8vW3x T9pL2mN4bK7", "a space"),
    "inner newline": ("sk-Zq8vW3x\nT9pL2mN4bK7", "a line break or tab"),
    "inner tab": ("sk-Zq8vW3x\tT9pL2mN4bK7", "a line break or tab"),
    "control character": ("sk-Zq8vW3x\x00T9pL2mN4bK7", "a control character"),
    "escape": ("sk-Zq8vW3x\x1bT9pL2mN4bK7", "a control character"),
    "non-ASCII": ("sk-Zq8vW3xé9pL2mN4bK7", "a non-ASCII character"),
    "typographic dash": ("sk–Zq8vW3xT9pL2mN4bK7", "a non-ASCII character"),
}


@pytest.mark.parametrize(("key", "kind"), BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_key_no_header_can_hold_is_refused_naming_the_variable_not_the_key(key, kind):
    with odd_server() as base:
        ep = auth_endpoint(base)
        with pytest.raises(EndpointError, match=f"^The API key in MY_KEY contains {kind}") as err:
            open_endpoint(ep, key)
        messages = [str(err.value)]
        with pytest.raises(EndpointError) as err:
            list_models(ep, key)
        messages.append(str(err.value))
        health = connection_check(ep, key)
        assert not health.ok
        messages.append(health.line)
        # A handle built without open_endpoint is checked before its request too.
        handle = EndpointModel("endpoint:auth", "m", "x", 2048, endpoint=ep, api_key=key)
        with pytest.raises(EndpointError) as err:
            generate(handle, ASK, SHORT)
        messages.append(str(err.value))
    for message in messages:
        assert "MY_KEY" in message
        assert_no_part_of(key, message)


def test_a_key_longer_than_any_api_key_is_refused_without_showing_it():
    key = "A" * 9000
    with pytest.raises(EndpointError, match="9,000 characters long") as err:
        open_endpoint(Endpoint("e", "http://127.0.0.1:9/v1", "m", key_name="MY_KEY"), key)
    assert "AAAA" not in str(err.value)


def test_a_server_that_echoes_a_wrong_key_does_not_get_it_shown():
    with odd_server() as base:
        ep = auth_endpoint(base)
        with pytest.raises(EndpointError, match=r"refused the API key \(HTTP 401\)") as err:
            generate(open_endpoint(ep, SECRET), ASK, SHORT)
        assert_no_part_of(SECRET, str(err.value))
        assert "MY_KEY" in str(err.value)
        with pytest.raises(EndpointError) as err:
            list_models(ep, SECRET)
        assert_no_part_of(SECRET, str(err.value))
        assert_no_part_of(SECRET, connection_check(ep, SECRET).line)


def test_an_httpx_error_that_quotes_the_key_is_scrubbed_with_its_cause(monkeypatch):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.headers['Authorization']!r}", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    monkeypatch.setattr(openai_api, "shared_client", lambda: client)
    ep = Endpoint("e", "http://127.0.0.1:9/v1", "m", key_name="MY_KEY", retries=0)
    with pytest.raises(EndpointError, match=r"^Cannot reach http://127\.0\.0\.1:9/v1") as err:
        generate(open_endpoint(ep, SECRET), ASK, SHORT)
    shown = "".join(traceback.format_exception(err.value))
    assert_no_part_of(SECRET, shown)
    assert "[key hidden]" in str(err.value)


def test_scrub_masks_the_key_its_ends_and_its_escaped_forms():
    key = "sk-Zq8vW3xT9pL2mN4bK7\n"
    text = f"b'Bearer {key!r}' / {key[:9]}... / ...{key.strip()[-5:]} / {key.encode()!r}"
    assert_no_part_of(key, scrub(text, key))
    assert scrub("nothing secret here", key) == "nothing secret here"
    assert scrub("nothing secret here", "") == "nothing secret here"


@pytest.mark.parametrize(
    ("mode", "field"),
    [
        ("choicesdict", "choices is dict"),
        ("deltastr", "delta is str"),
        ("usagenum", "usage is int"),
        ("contentnum", "content is int"),
        ("jsonshape", "message is str"),
    ],
)
def test_json_of_an_unexpected_shape_is_an_endpoint_error(mode, field):
    with odd_server() as base:
        odd = Endpoint("odd", f"{base}/{mode}/v1", "m", retries=0)
        with pytest.raises(
            EndpointError, match=f"^odd sent an answer of an unexpected shape \\({field}"
        ):
            generate(open_endpoint(odd), ASK, SHORT)
        with pytest.raises(EndpointError, match="unexpected shape"):
            list(stream(open_endpoint(odd), ASK, SHORT))


def test_json_nested_too_deep_is_an_endpoint_error():
    with odd_server() as base:
        odd = Endpoint("odd", f"{base}/deepjson/v1", "m", retries=0)
        with pytest.raises(EndpointError, match="not JSON"):
            generate(open_endpoint(odd), ASK, SHORT)


def test_a_stream_line_over_the_limit_is_refused():
    with odd_server() as base:
        odd = Endpoint("odd", f"{base}/longline/v1", "m", retries=0)
        with pytest.raises(EndpointError, match="a stream line over 1,000,000 characters"):
            generate(open_endpoint(odd), ASK, SHORT)


def test_a_stream_that_never_ends_is_cut_at_the_total_limit(monkeypatch):
    monkeypatch.setattr(endpoint_events, "MAX_STREAM_CHARS", 100_000)
    with odd_server() as base:
        run = stream(open_endpoint(Endpoint("odd", f"{base}/endless/v1", "m")), ASK, GenParams())
        with pytest.raises(EndpointError, match="more than 100,000 characters for one answer"):
            for _ in run:
                pass
        assert run.result.text.startswith("HelloHello")


def test_a_json_answer_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(openai_api, "MAX_BODY_BYTES", 1000)
    with odd_server() as base:
        odd = Endpoint("odd", f"{base}/deepjson/v1", "m", retries=0)
        with pytest.raises(EndpointError, match="sent an answer over 1,000 bytes"):
            generate(open_endpoint(odd), ASK, SHORT)
    assert endpoint_http.MAX_BODY_BYTES > 1000


def parse(chunks: list[str]) -> str:
    """What the stream reader does with a server's text, without the socket."""
    result, text = GenerationResult(), ""
    for event in sse_events(chunks, "fuzz"):
        text += apply_event(event, result, "fuzz")
    return text


def test_the_parser_reads_events_split_anywhere_and_any_line_break():
    events = [{"choices": [{"delta": {"content": w}}]} for w in ("The ", "end", ".")]
    for brk in ("\n", "\r\n", "\r"):
        body = ": keep-alive" + brk + "".join(f"data: {json.dumps(e)}{brk}{brk}" for e in events)
        body += f"data: [DONE]{brk}data: never read{brk}"
        assert parse([body]) == "The end."
        assert parse(list(body)) == "The end."  # one character a chunk
        assert parse([body[:7], body[7:30], body[30:]]) == "The end."


KEYS = st.text(max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
# Events near the real shape, so the fuzzing reaches past the first type check.
NEAR = st.fixed_dictionaries(
    {},
    optional={
        "choices": JSON
        | st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "delta": JSON | st.fixed_dictionaries({}, optional={"content": JSON}),
                    "text": JSON,
                    "finish_reason": JSON,
                    "message": JSON,
                },
            )
            | JSON,
            max_size=2,
        ),
        "usage": JSON
        | st.fixed_dictionaries({}, optional={"prompt_tokens": JSON, "completion_tokens": JSON}),
        "error": JSON,
    },
)
LINE = (
    NEAR.map(lambda e: "data: " + json.dumps(e))
    | JSON.map(lambda e: "data: " + json.dumps(e))
    | st.sampled_from(["data: [DONE]", "", ": ping", "event: x", "data:", "data: {", "data: [[["])
    | st.text(max_size=20)
)


@st.composite
def streams(draw) -> list[str]:
    """Lines joined by any line break, then cut into chunks at random places."""
    lines = draw(st.lists(LINE, max_size=6))
    breaks = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]), min_size=len(lines)))
    body = "".join(line + brk for line, brk in zip(lines, breaks, strict=False))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_any_stream_gives_text_or_a_clear_error(chunks):
    try:
        text = parse(chunks)
    except EndpointError as err:
        assert str(err)
    else:
        assert isinstance(text, str)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NEAR | st.dictionaries(st.text(max_size=8), JSON, max_size=3))
def test_any_json_answer_gives_text_or_a_clear_error(answer):
    try:
        text = apply_event(json_event(answer, "fuzz"), GenerationResult(), "fuzz")
    except EndpointError as err:
        assert str(err)
    else:
        assert isinstance(text, str)
