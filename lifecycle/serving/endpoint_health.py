"""Endpoint health: the models a server lists, and a connection test that names each failure."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from lifecycle.models.generation import GenParams
from lifecycle.serving.endpoint_http import (
    MAX_BODY_BYTES,
    EndpointError,
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
from lifecycle.serving.openai_api import EndpointStream, open_endpoint
from lifecycle.settings import Endpoint, SettingsError, check_url


def list_models(ep: Endpoint, api_key: str = "") -> list[str]:
    """The model names the server serves (GET /v1/models)."""
    try:
        return _list_models(ep, api_key)
    except EndpointError as err:
        clean = without_key(err, api_key)  # last line: no message shows the key
        if clean is err:
            raise
        raise clean from None


def _list_models(ep: Endpoint, api_key: str) -> list[str]:
    url = f"{check_url(ep.base_url)}/models"
    auth = headers(api_key, ep.key_name)
    try:
        with shared_client().stream("GET", url, headers=auth, timeout=timeout(ep)) as streamed:
            response = read_capped(streamed, ep, MAX_BODY_BYTES)
    except httpx.TimeoutException as err:
        raise EndpointError(timeout_message(ep, err, False)) from err
    except httpx.TransportError as err:
        raise EndpointError(unreachable_message(ep, err)) from err
    if response.status_code != 200:
        raise EndpointError(http_error(ep, response, "models"))
    if "text/html" in response.headers.get("content-type", ""):
        raise EndpointError(html_message(ep, response))
    data = parse_json(response, ep).get("data")
    if not isinstance(data, list):
        raise EndpointError(f"{ep.name}'s /models answer has no model list: is it OpenAI-like?")
    ids = (m.get("id") for m in data if isinstance(m, dict))
    return [str(i)[:200] for i in ids if isinstance(i, (str, int)) and i != ""]


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
