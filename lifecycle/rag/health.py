"""Health of a Chroma server: one GET of its heartbeat, answered as (ok, a readable line)."""

from __future__ import annotations

import time

import httpx

HEARTBEAT_PATH = "/api/v2/heartbeat"  # chromadb 1.x; the v1 API is gone
HEARTBEAT_TIMEOUT_S = 2.0  # a local server answers in milliseconds; the page must stay usable


def check_host(host: str) -> str:
    """The host name or IP alone, or a ValueError that says what to write instead."""
    host = (host or "").strip()
    if not host or any(c in host for c in " /\\?#@") or "://" in host:
        raise ValueError(
            f"“{host}” is not a host: write a name or IP alone, e.g. 127.0.0.1 or chroma.local "
            "(no http://, no port, no path)."
        )
    return host


def heartbeat_url(host: str, port: int) -> str:
    """The heartbeat URL (IPv6 addresses in brackets)."""
    host = check_host(host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{int(port)}{HEARTBEAT_PATH}"


def heartbeat(host: str, port: int, timeout_s: float = HEARTBEAT_TIMEOUT_S) -> tuple[bool, str]:
    """Is a Chroma server answering at host:port? Never raises: every failure is a line."""
    where = f"{host}:{port}"
    try:
        url = heartbeat_url(host, port)
    except ValueError as err:
        return False, str(err)
    start = time.perf_counter()
    try:
        response = httpx.get(url, timeout=timeout_s)
    except httpx.TimeoutException:
        return False, f"The Chroma server at {where} did not answer within {timeout_s:g} s."
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        return False, (
            f"Cannot reach a Chroma server at {where} ({type(err).__name__}). Start one with "
            f"`chroma run --path DIR --host {host} --port {port}`."
        )
    ms = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        return False, (
            f"{where} answered HTTP {response.status_code} to {HEARTBEAT_PATH}: is it a "
            "Chroma 1.x server?"
        )
    try:
        data = response.json()
    except ValueError:
        return False, f"{where} answered something that is not JSON: not a Chroma server?"
    if not isinstance(data, dict) or not any("heartbeat" in str(k) for k in data):
        return False, f"{where} answered JSON without a heartbeat: not a Chroma server?"
    return True, f"The Chroma server at {where} is up ({ms:.0f} ms)."
