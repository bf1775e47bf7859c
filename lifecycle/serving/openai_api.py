"""An OpenAI-compatible chat-completions backend (vLLM, TGI, llama.cpp, Ollama, OpenAI)."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from lifecycle.models.generation import GenerationError, GenerationResult, GenParams, Messages
from lifecycle.serving.base import ServedModel, ServedStream, estimate_tokens
from lifecycle.settings import Endpoint, SettingsError, check_url

RETRY_STATUS = {429, 502, 503, 504}  # busy or restarting: worth another try
CONNECT_TIMEOUT_S = 5.0  # a server that does not accept a connection in 5 s is not there


class EndpointError(GenerationError):
    """A request the server could not answer; the message says why and what to check."""


@dataclass
class EndpointModel(ServedModel):
    """A model behind an OpenAI-compatible server; the key is held in memory only."""

    endpoint: Endpoint | None = None
    api_key: str = field(default="", repr=False)

    def __repr__(self) -> str:  # never print the key (tracebacks, logs, st.write)
        return f"EndpointModel({self.ref!r}, {self.endpoint.base_url if self.endpoint else ''})"

    def stream(self, messages: Messages, params: GenParams) -> EndpointStream:
        """A streamed chat completion."""
        return EndpointStream(self, messages, params)

    def generate(self, messages: Messages, params: GenParams) -> GenerationResult:
        """One non-streamed request: servers report exact token usage for those."""
        run = EndpointStream(self, messages, params, live=False)
        for _ in run:
            pass
        run.result.ttft_s = None  # the whole answer arrived at once
        return run.result


def open_endpoint(endpoint: Endpoint, api_key: str = "") -> EndpointModel:
    """A model handle for an endpoint (no request is made until it is used)."""
    try:
        endpoint.check()
    except SettingsError as err:
        raise EndpointError(f"Endpoint {endpoint.name or '(unnamed)'}: {err}") from err
    return EndpointModel(
        ref=f"endpoint:{endpoint.name}",
        name=f"{endpoint.model} at {endpoint.name}",
        runtime=f"OpenAI-compatible endpoint {endpoint.base_url}",
        context_window=endpoint.context_window,
        device="server",
        kind="endpoint",
        endpoint=endpoint,
        api_key=api_key,
    )


def request_body(model: str, messages: Messages, params: GenParams, stream: bool) -> dict:
    """The chat-completions request for our decoding settings (standard fields first)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature if params.do_sample else 0.0,  # 0 = greedy
        "seed": params.seed,
        "stream": stream,
    }
    if params.do_sample:
        body["top_p"] = params.top_p
        if params.top_k:
            body["top_k"] = params.top_k  # vLLM, TGI, llama.cpp and Ollama read it
    if params.repetition_penalty != 1.0:
        body["repetition_penalty"] = params.repetition_penalty  # vLLM / TGI name
        body["repeat_penalty"] = params.repetition_penalty  # llama.cpp / Ollama name
    if params.stop:
        body["stop"] = list(params.stop)
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def headers(api_key: str) -> dict[str, str]:
    """Request headers; the key goes only here."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def timeout(endpoint: Endpoint) -> httpx.Timeout:
    """Connect fast or fail; then wait up to the endpoint's timeout between bytes."""
    return httpx.Timeout(endpoint.timeout_s, connect=min(CONNECT_TIMEOUT_S, endpoint.timeout_s))


class EndpointStream(ServedStream):
    """Server-sent events of one chat completion, with retries before the first token."""

    def __init__(self, lm: EndpointModel, messages: Messages, params: GenParams, live=True):
        super().__init__(messages, params)
        self.lm, self.live = lm, live
        self.result.prompt_tokens = lm.count_tokens(messages)  # replaced by the server's usage
        self.result.counts = "estimated"  # until the server reports its usage

    def __iter__(self) -> Iterator[str]:
        ep = self.lm.endpoint
        body = request_body(ep.model, self.messages, self.params, stream=self.live)
        start = time.perf_counter()
        text, chunks = "", 0
        try:
            with _open(shared_client(), ep, body, self.lm.api_key) as response:
                for event in _events(response, ep):
                    piece = _apply_event(event, self.result)
                    if piece:
                        if self.result.ttft_s is None:
                            self.result.ttft_s = time.perf_counter() - start
                        text += piece
                        chunks += 1
                        yield piece
                    if event is DONE:
                        self.result.finish_reason = self.result.finish_reason or "eos"
                        break
                else:
                    raise EndpointError(
                        f"{ep.name} closed the stream mid-answer (after {len(text):,} "
                        "characters, no end marker): the text so far is kept. The server "
                        "may have crashed or hit a proxy limit."
                    )
        except httpx.TimeoutException as err:
            raise EndpointError(_timeout_message(ep, err, bool(text))) from err
        except httpx.TransportError as err:
            if not text:
                raise EndpointError(_unreachable_message(ep, err)) from err
            raise EndpointError(
                f"The connection to {ep.name} broke mid-answer ({type(err).__name__}): "
                "the text so far is kept."
            ) from err
        finally:
            self.result.latency_s = time.perf_counter() - start
            self.result.text = text
            if not self.result.completion_tokens:
                self.result.completion_tokens = chunks  # servers send about a token a chunk
            if not self.result.finish_reason:
                self.result.finish_reason = "cancelled"  # the page stopped reading


DONE = object()  # the [DONE] marker


@functools.cache
def shared_client() -> httpx.Client:
    """One connection pool for every endpoint request (thread-safe).

    A new httpx.Client builds an SSL context from the CA bundle: ~20 ms of CPU per request.
    Keys and timeouts are set per request, so nothing of one endpoint leaks into another.
    """
    return httpx.Client()


class _open:
    """POST with retries until the server accepts the request (200) or clearly refuses."""

    def __init__(self, client: httpx.Client, ep: Endpoint, body: dict, api_key: str):
        self.client, self.ep, self.body, self.api_key = client, ep, body, api_key
        self.response: httpx.Response | None = None

    def __enter__(self) -> httpx.Response:
        url = f"{check_url(self.ep.base_url)}/chat/completions"
        for attempt in range(self.ep.retries + 1):
            last = attempt == self.ep.retries
            try:
                request = self.client.build_request(
                    "POST",
                    url,
                    json=self.body,
                    headers=headers(self.api_key),
                    timeout=timeout(self.ep),
                )
                response = self.client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError):
                if last:
                    raise
                time.sleep(0.5 * 2**attempt)
                continue
            if response.status_code == 200:
                self.response = response
                return response
            response.read()
            response.close()
            if response.status_code not in RETRY_STATUS or last:
                raise EndpointError(http_error(self.ep, response, "chat/completions"))
            time.sleep(0.5 * 2**attempt)
        raise EndpointError(f"{self.ep.name} did not accept the request.")  # not reached

    def __exit__(self, *exc) -> None:
        if self.response is not None:
            self.response.close()


def _events(response: httpx.Response, ep: Endpoint) -> Iterator[Any]:
    """Parsed server-sent events; a plain JSON answer (no streaming) becomes one event."""
    kind = response.headers.get("content-type", "")
    if "text/html" in kind:
        response.read()
        raise EndpointError(html_message(ep, response))
    if "application/json" in kind:
        response.read()
        answer = _json(response, ep)
        yield {**answer, "choices": [_as_delta(answer)]}
        yield DONE
        return
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue  # comments, event names, keep-alives
        data = line[5:].strip()
        if data == "[DONE]":
            yield DONE
            return
        try:
            yield json.loads(data)
        except ValueError as err:
            raise EndpointError(
                f"{ep.name} sent a stream event that is not JSON: {data[:120]!r}"
            ) from err


def _as_delta(answer: dict) -> dict:
    """A non-streamed choice in the shape of a streamed one."""
    choice = (answer.get("choices") or [{}])[0]
    content = (choice.get("message") or {}).get("content") or choice.get("text") or ""
    return {"delta": {"content": content}, "finish_reason": choice.get("finish_reason")}


def _apply_event(event: Any, result) -> str:
    """Record usage and the finish reason; return the event's new text."""
    if event is DONE or not isinstance(event, dict):
        return ""
    if "error" in event:
        err = event["error"]
        raise EndpointError(f"The server stopped with an error: {_message_of(err)}")
    usage = event.get("usage") or {}
    if usage:
        result.prompt_tokens = int(usage.get("prompt_tokens") or result.prompt_tokens)
        result.completion_tokens = int(usage.get("completion_tokens") or 0)
        result.counts = "exact"
    piece = ""
    for choice in event.get("choices") or []:
        delta = choice.get("delta") or {}
        piece += delta.get("content") or choice.get("text") or ""
        reason = choice.get("finish_reason")
        if reason:
            result.finish_reason = {"stop": "eos", "length": "length"}.get(reason, reason)
    return piece


def _json(response: httpx.Response, ep: Endpoint) -> dict:
    try:
        data = response.json()
    except ValueError as err:
        raise EndpointError(
            f"{ep.name} answered with something that is not JSON: {response.text[:120]!r}"
        ) from err
    if not isinstance(data, dict):
        raise EndpointError(f"{ep.name} answered with unexpected JSON: {str(data)[:120]}")
    return data


def _message_of(err: Any) -> str:
    if isinstance(err, dict):
        return str(err.get("message") or err.get("detail") or err)[:300]
    return str(err)[:300]


def html_message(ep: Endpoint, response: httpx.Response) -> str:
    """An HTML page where JSON was expected: usually a proxy, a login page or a wrong URL."""
    title = ""
    low = response.text.lower()
    if "<title>" in low:
        title = response.text[low.index("<title>") + 7 : low.find("</title>")].strip()[:80]
    return (
        f"{ep.base_url} answered with an HTML page (HTTP {response.status_code}"
        + (f": {title}" if title else "")
        + "), not the OpenAI API. Check the base URL (it usually ends in /v1) and any proxy."
    )


def http_error(ep: Endpoint, response: httpx.Response, path: str) -> str:
    """A readable reason for a refused request, by status code and the server's message."""
    code = response.status_code
    if "text/html" in response.headers.get("content-type", "") or response.text.lstrip()[:1] == "<":
        return html_message(ep, response)
    try:
        data = response.json()
        detail = _message_of(data.get("error", data) if isinstance(data, dict) else data)
    except ValueError:
        detail = response.text[:200] or "(empty body)"
    if code in (401, 403):
        where = f"the secret or environment variable {ep.key_name}" if ep.key_name else "no key"
        return (
            f"{ep.name} refused the API key (HTTP {code}); the app sent {where}. Set the right "
            f"key there and restart, or fix the key name in Settings. Server: {detail}"
        )
    if code == 404 and path == "chat/completions" and "model" in detail.lower():
        return f"{ep.name} does not know the model “{ep.model}” (HTTP 404): {detail}"
    if code == 404:
        return (
            f"No OpenAI-compatible API at {ep.base_url}/{path} (HTTP 404). Is the base "
            f"URL right? It usually ends in /v1. Server: {detail}"
        )
    return f"{ep.name} answered HTTP {code}: {detail}"


def _timeout_message(ep: Endpoint, err: Exception, started: bool) -> str:
    if isinstance(err, httpx.ConnectTimeout):
        return f"{ep.base_url} did not accept a connection within {CONNECT_TIMEOUT_S:.0f} s."
    tail = " The text so far is kept." if started else ""
    return (
        f"{ep.name} sent nothing for {ep.timeout_s:g} s (model {ep.model}). It may be busy or "
        f"still loading the model: try again, or raise the timeout in Settings.{tail}"
    )


def _unreachable_message(ep: Endpoint, err: Exception) -> str:
    return (
        f"Cannot reach {ep.base_url} ({type(err).__name__}: {str(err)[:120] or 'refused'}). "
        "Is the server running, and are host and port right?"
    )


def list_models(ep: Endpoint, api_key: str = "") -> list[str]:
    """The model names the server serves (GET /v1/models)."""
    url = f"{check_url(ep.base_url)}/models"
    try:
        response = shared_client().get(url, headers=headers(api_key), timeout=timeout(ep))
    except httpx.TimeoutException as err:
        raise EndpointError(_timeout_message(ep, err, False)) from err
    except httpx.TransportError as err:
        raise EndpointError(_unreachable_message(ep, err)) from err
    if response.status_code != 200:
        raise EndpointError(http_error(ep, response, "models"))
    if "text/html" in response.headers.get("content-type", ""):
        raise EndpointError(html_message(ep, response))
    data = _json(response, ep).get("data")
    if not isinstance(data, list):
        raise EndpointError(f"{ep.name}'s /models answer has no model list: is it OpenAI-like?")
    return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id")]


@dataclass(frozen=True)
class Health:
    """One line of health: ok or not, and what was seen."""

    ok: bool
    line: str
    latency_ms: float = 0.0


def test_connection(ep: Endpoint, api_key: str = "", generate: bool = True) -> Health:
    """List the models, check ours is served, then ask for 1 token: each failure named."""
    start = time.perf_counter()
    try:
        check_url(ep.base_url)
        served = list_models(ep, api_key)
        if served and ep.model not in served:
            return Health(
                False,
                f"The server does not serve “{ep.model}”; it serves: {', '.join(served[:8])}.",
            )
        if generate:
            probe = EndpointStream(
                open_endpoint(ep, api_key),
                [{"role": "user", "content": "Say OK."}],
                GenParams(max_new_tokens=1),
            )
            for _ in probe:
                pass
    except (EndpointError, SettingsError) as err:
        return Health(False, str(err))
    ms = (time.perf_counter() - start) * 1000
    return Health(True, f"Connected: {ep.model} answers ({ms:.0f} ms, {len(served)} models).", ms)


__all__ = ["EndpointError", "EndpointModel", "estimate_tokens", "open_endpoint"]
