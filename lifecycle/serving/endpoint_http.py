"""HTTP plumbing of the endpoint backend: one shared client, headers, timeouts, error wording."""

from __future__ import annotations

import functools
from typing import Any

import httpx

from lifecycle.models.generation import GenerationError
from lifecycle.settings import Endpoint

CONNECT_TIMEOUT_S = 5.0  # a server that does not accept a connection in 5 s is not there


class EndpointError(GenerationError):
    """A request the server could not answer; the message says why and what to check."""


def headers(api_key: str) -> dict[str, str]:
    """Request headers; the key goes only here."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def timeout(endpoint: Endpoint) -> httpx.Timeout:
    """Connect fast or fail; then wait up to the endpoint's timeout between bytes."""
    return httpx.Timeout(endpoint.timeout_s, connect=min(CONNECT_TIMEOUT_S, endpoint.timeout_s))


@functools.cache
def shared_client() -> httpx.Client:
    """One connection pool for every endpoint request (thread-safe).

    A new httpx.Client builds an SSL context from the CA bundle: ~20 ms of CPU per request.
    Keys and timeouts are set per request, so nothing of one endpoint leaks into another.
    """
    return httpx.Client()


def parse_json(response: httpx.Response, ep: Endpoint) -> dict:
    """The JSON object of an answer, or a clear error when it is not one."""
    try:
        data = response.json()
    except ValueError as err:
        raise EndpointError(
            f"{ep.name} answered with something that is not JSON: {response.text[:120]!r}"
        ) from err
    if not isinstance(data, dict):
        raise EndpointError(f"{ep.name} answered with unexpected JSON: {str(data)[:120]}")
    return data


def message_of(err: Any) -> str:
    """The message of a server's error object, shortened."""
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
        detail = message_of(data.get("error", data) if isinstance(data, dict) else data)
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


def timeout_message(ep: Endpoint, err: Exception, started: bool) -> str:
    """A timeout, naming the limit that ran out."""
    if isinstance(err, httpx.ConnectTimeout):
        return f"{ep.base_url} did not accept a connection within {CONNECT_TIMEOUT_S:.0f} s."
    tail = " The text so far is kept." if started else ""
    return (
        f"{ep.name} sent nothing for {ep.timeout_s:g} s (model {ep.model}). It may be busy or "
        f"still loading the model: try again, or raise the timeout in Settings.{tail}"
    )


def unreachable_message(ep: Endpoint, err: Exception) -> str:
    """A server that cannot be reached at all."""
    return (
        f"Cannot reach {ep.base_url} ({type(err).__name__}: {str(err)[:120] or 'refused'}). "
        "Is the server running, and are host and port right?"
    )
