"""An OpenAI-compatible chat-completions backend (vLLM, TGI, llama.cpp, Ollama, OpenAI)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from lifecycle.models.generation import GenerationResult, GenParams, Messages
from lifecycle.serving.base import ServedModel, ServedStream, estimate_tokens
from lifecycle.serving.endpoint_events import DONE, apply_event, json_event, sse_events
from lifecycle.serving.endpoint_http import (
    MAX_BODY_BYTES,
    MAX_ERROR_BYTES,
    EndpointError,
    clean_key,
    headers,
    html_message,
    http_error,
    parse_json,
    read_capped,
    shared_client,
    timeout,
    timeout_message,
    unreachable_message,
    without_key,
)
from lifecycle.settings import LOCAL_SERVER, Endpoint, SettingsError, check_url

RETRY_STATUS = {429, 502, 503, 504}  # busy or restarting: worth another try
DEFAULT_CONCURRENCY = 4  # requests in flight when evaluating (as lm-eval-harness num_concurrent)


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

    def generate_many(self, batch: list[Messages], params: GenParams, width: int) -> list:
        """Up to `width` requests in flight (each with its retries); answers in order."""
        from lifecycle.models.batching import ordered

        return ordered(lambda m: self.generate(m, params), batch, width)

    def auto_width(self, params: GenParams) -> int:
        """Requests in flight by default: servers batch them; a busy one answers 429 (retried)."""
        return DEFAULT_CONCURRENCY


def open_endpoint(endpoint: Endpoint, api_key: str = "") -> EndpointModel:
    """A model handle for an endpoint (no request is made until it is used)."""
    try:
        endpoint.check()
    except SettingsError as err:
        raise EndpointError(f"Endpoint {endpoint.name or '(unnamed)'}: {err}") from err
    api_key = clean_key(api_key, endpoint.key_name)  # a pasted key's stray newline goes here
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


class EndpointStream(ServedStream):
    """Server-sent events of one chat completion, with retries before the first token."""

    def __init__(self, lm: EndpointModel, messages: Messages, params: GenParams, live=True):
        super().__init__(messages, params)
        self.lm, self.live = lm, live
        self.result.prompt_tokens = lm.count_tokens(messages)  # replaced by the server's usage
        self.result.counts = "estimated"  # until the server reports its usage
        self.progress.prompt_tokens = self.result.prompt_tokens
        self.progress.enter("prompt")  # the server queues and reads it: no count comes back

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._run()
        except EndpointError as err:
            clean = without_key(err, self.lm.api_key)  # last line: no message shows the key
            if clean is err:
                raise
            raise clean from None

    def _run(self) -> Iterator[str]:
        ep = self.lm.endpoint
        if ep is None:  # open_endpoint always sets it; a bare EndpointModel has none
            raise EndpointError(f"{self.lm.name} has no endpoint to send the request to.")
        body = request_body(ep.model, self.messages, self.params, stream=self.live)
        if self.params.grammar and ep.name == LOCAL_SERVER:
            body["grammar"] = self.params.grammar  # llama.cpp's server; others may refuse it
        start = time.perf_counter()
        text, chunks = "", 0
        try:
            with _open(shared_client(), ep, body, self.lm.api_key) as response:
                for event in _events(response, ep):
                    piece = apply_event(event, self.result, ep.name)
                    if piece:
                        if self.result.ttft_s is None:
                            self.result.ttft_s = time.perf_counter() - start
                            self.progress.enter("answer")
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
            raise EndpointError(timeout_message(ep, err, bool(text))) from err
        except httpx.TransportError as err:
            if not text:
                raise EndpointError(unreachable_message(ep, err)) from err
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
                    headers=headers(self.api_key, self.ep.key_name),
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
            refusal = read_capped(response, self.ep, MAX_ERROR_BYTES, strict=False)
            response.close()
            if response.status_code not in RETRY_STATUS or last:
                raise EndpointError(http_error(self.ep, refusal, "chat/completions"))
            time.sleep(0.5 * 2**attempt)
        raise EndpointError(f"{self.ep.name} did not accept the request.")  # not reached

    def __exit__(self, *exc) -> None:
        if self.response is not None:
            self.response.close()


def _events(response: httpx.Response, ep: Endpoint) -> Iterator[Any]:
    """Parsed server-sent events; a plain JSON answer (no streaming) becomes one event."""
    kind = response.headers.get("content-type", "")
    if "text/html" in kind:
        raise EndpointError(html_message(ep, read_capped(response, ep, MAX_ERROR_BYTES, False)))
    if "application/json" in kind:
        answer = parse_json(read_capped(response, ep, MAX_BODY_BYTES), ep)
        yield json_event(answer, ep.name)
        yield DONE
        return
    yield from sse_events(response.iter_text(), ep.name)


__all__ = ["EndpointError", "EndpointModel", "estimate_tokens", "open_endpoint"]
