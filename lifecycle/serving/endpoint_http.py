"""HTTP plumbing of the endpoint backend: one shared client, headers, timeouts, error wording."""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx

from lifecycle.models.generation import GenerationError
from lifecycle.settings import Endpoint

CONNECT_TIMEOUT_S = 5.0  # a server that does not accept a connection in 5 s is not there
MAX_KEY_CHARS = 8192  # the longest real keys (JWTs) are a few thousand characters
KEY_PART_CHARS = 4  # a run this long from either end of the key is masked in messages
KEY_MASK = "[key hidden]"
MAX_BODY_BYTES = 20 * 2**20  # a whole non-streamed answer; real ones are a few kilobytes
MAX_ERROR_BYTES = 64 * 2**10  # of a refusal's body: enough for any server's message


class EndpointError(GenerationError):
    """A request the server could not answer; the message says why and what to check."""


def clean_key(api_key: str, key_name: str = "") -> str:
    """The key without surrounding whitespace; EndpointError (naming where, never the key) if odd.

    HTTP headers hold printable ASCII only: a space, line break or accent inside a key makes
    httpx raise with the header, key included, in its message.
    """
    key = (api_key or "").strip()
    if not key:
        return ""
    where = f"The API key in {key_name}" if key_name else "The API key"
    if len(key) > MAX_KEY_CHARS:
        raise EndpointError(
            f"{where} is {len(key):,} characters long, more than any API key: is it the right "
            "value? Set the key alone, then restart the app."
        )
    odd = next((c for c in key if not "!" <= c <= "~"), None)
    if odd is not None:
        kind = (
            "a space"
            if odd == " "
            else "a line break or tab"
            if odd in "\t\n\r\v\f"
            else "a control character"
            if odd.isascii()
            else "a non-ASCII character (an accent, a typographic quote or dash)"
        )
        raise EndpointError(
            f"{where} contains {kind}. API keys are printable ASCII without spaces: copy the key "
            "again, without quotes, spaces or line breaks, set it, and restart the app."
        )
    return key


def headers(api_key: str, key_name: str = "") -> dict[str, str]:
    """Request headers; the key goes only here, checked first."""
    key = clean_key(api_key, key_name)
    return {"Authorization": f"Bearer {key}"} if key else {}


def scrub(text: str, api_key: str) -> str:
    """The text with the key, and any run of 4 or more of its first or last characters, masked."""
    key = (api_key or "")[: MAX_KEY_CHARS + 64]
    forms = {key, key.strip(), repr(key)[1:-1], repr(key.encode("utf-8", "replace"))[2:-1]}
    for form in sorted(forms - {""}, key=len, reverse=True):
        text = text.replace(form, KEY_MASK)
        for n in range(len(form) - 1, KEY_PART_CHARS - 1, -1):
            for part in (form[:n], form[-n:]):
                if part in text:
                    text = text.replace(part, KEY_MASK)
    return text


def without_key(err: EndpointError, api_key: str) -> EndpointError:
    """`err` itself when nothing in it shows the key, else a scrubbed copy with no cause chain."""
    if not (api_key or "").strip():
        return err
    chain: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and len(chain) < 20:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if all(scrub(str(e), api_key) == str(e) for e in chain):
        return err
    return EndpointError(scrub(str(err), api_key))


def read_capped(response: httpx.Response, ep: Endpoint, limit: int, strict: bool = True):
    """A copy of the response with its body read, at most `limit` bytes (refused or cut).

    httpx reads a body whole; a server that sends gigabytes must not fill the memory.
    """
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            if strict:
                raise EndpointError(
                    f"{ep.name} sent an answer over {limit:,} bytes: refused (a chat "
                    "completion is a few kilobytes). Is the base URL right?"
                )
            del body[limit:]
            break
    kind = response.headers.get("content-type", "")
    # Only the type travels: the body is already decoded (gzip, chunked).
    return httpx.Response(response.status_code, headers={"content-type": kind}, content=bytes(body))


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
    except (ValueError, RecursionError) as err:  # RecursionError: JSON nested too deep
        raise EndpointError(
            f"{ep.name} answered with something that is not JSON: {response.text[:120]!r}"
        ) from err
    if not isinstance(data, dict):
        raise EndpointError(f"{ep.name} answered with unexpected JSON: {short(data)}")
    return data


def short(value: Any, limit: int = 120) -> str:
    """A value as a short string for a message (deep or huge JSON cannot blow it up)."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message_of(err: Any) -> str:
    """The message of a server's error object, shortened."""
    if isinstance(err, dict):
        err = err.get("message") or err.get("detail") or err
    return (err if isinstance(err, str) else short(err, 300))[:300]


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
    except (ValueError, RecursionError):
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
