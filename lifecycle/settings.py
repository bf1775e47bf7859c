"""Runtime choices kept across restarts: endpoints, the embedded runtime, hub, vector store."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

from lifecycle.atomic import file_lock, write_text_atomic
from lifecycle.config import data_home
from lifecycle.typed import dataclass_from

SETTINGS_FILE = "settings.json"  # in the data folder; never holds an API key
RUNTIMES = ("auto", "llama.cpp", "transformers")  # auto: llama.cpp when it is installed
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
LOCAL_SERVER = "local-llama.cpp"  # the endpoint name of the server the app manages
HOST_RE = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


class SettingsError(ValueError):
    """A setting no run can use; the message names the field."""


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp, Ollama, OpenAI)."""

    name: str = ""  # what pickers show; the model ref is endpoint:<name>
    base_url: str = ""  # up to /v1, e.g. http://127.0.0.1:8080/v1
    model: str = ""  # the model name the server knows
    key_name: str = ""  # env var or st.secrets entry holding the API key ("" = none needed)
    timeout_s: float = 60.0  # per read: a slow server is reported, not waited on forever
    retries: int = 2  # for refused connections and 429/5xx before the first token
    context_window: int = 8192  # the server refuses longer prompts; this sizes the preview

    def check(self) -> None:
        """Refuse an endpoint no request can use, naming the field."""
        if not NAME_RE.match(self.name):
            raise SettingsError(
                "Name: 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit."
            )
        check_url(self.base_url)
        if not self.model.strip():
            raise SettingsError("Model: the name the server serves (see its /v1/models).")
        if self.key_name and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", self.key_name):
            raise SettingsError(
                "API key name: the name of an environment variable or secret (e.g. "
                "OPENAI_API_KEY), not the key itself."
            )
        if not 1 <= self.timeout_s <= 3600 or not 0 <= self.retries <= 10:
            raise SettingsError("Timeout must be 1-3600 s and retries 0-10.")
        if not 128 <= self.context_window <= 10_000_000:
            raise SettingsError("Context window must be at least 128 tokens.")


@dataclass(frozen=True)
class Settings:
    """Everything the Settings page edits (the data folder itself lives outside: see config)."""

    embedded_runtime: str = "auto"  # auto | llama.cpp | transformers
    llama_threads: int = 0  # 0 = every core (llama-cpp-python's own default takes half)
    llama_port: int = 8088  # port of the managed local llama.cpp server (127.0.0.1 only)
    hub: bool = False  # allow Hugging Face hub downloads (applies at the next start)
    chroma_kind: str = "embedded"  # embedded | server
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    endpoints: tuple[Endpoint, ...] = field(default_factory=tuple)

    def check(self) -> None:
        """Refuse settings no page can use."""
        if self.embedded_runtime not in RUNTIMES:
            raise SettingsError(f"Runtime must be one of {', '.join(RUNTIMES)}.")
        if self.chroma_kind not in ("embedded", "server"):
            raise SettingsError("The vector store is embedded or a server.")
        if not 1 <= self.chroma_port <= 65535 or not 1024 <= self.llama_port <= 65535:
            raise SettingsError("Ports: 1-65535 (the llama.cpp server needs 1024 or above).")
        if not 0 <= self.llama_threads <= 256:
            raise SettingsError("llama.cpp threads: 0 (automatic) to 256.")
        if self.chroma_kind == "server" and not _host_ok(self.chroma_host.strip()):
            raise SettingsError(
                f"Chroma host “{self.chroma_host}” is not a host name or IP address "
                "(no http://, no port: the port has its own field)."
            )
        names = [e.name for e in self.endpoints]
        if len(names) != len(set(names)):
            raise SettingsError("Two endpoints share a name: names must be unique.")
        for e in self.endpoints:
            e.check()

    def endpoint(self, name: str) -> Endpoint | None:
        """The endpoint called `name`, if any."""
        return next((e for e in self.endpoints if e.name == name), None)


def check_url(url: str) -> str:
    """The URL without a trailing slash, or a clear reason it cannot be an API base URL."""
    url = (url or "").strip()
    bad = SettingsError(
        f"“{url}” is not a URL: write it like http://127.0.0.1:8080/v1 "
        "(scheme, host, port, and usually /v1)."
    )
    try:
        parsed = urlparse(url)
        host = parsed.hostname or ""
    except ValueError as err:  # e.g. an unclosed IPv6 bracket
        raise bad from err
    if parsed.scheme not in ("http", "https") or " " in url or not _host_ok(host):
        raise bad
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as err:
        raise SettingsError(f"“{url}” has an invalid port: {err}.") from err
    return url.rstrip("/")


def _host_ok(host: str) -> bool:
    """A DNS name (labels of letters, digits, '-') or an IP address."""
    if ":" in host:  # IPv6, already unbracketed by urlparse
        return bool(re.fullmatch(r"[0-9A-Fa-f:.]+", host))
    return bool(HOST_RE.fullmatch(host))


def settings_path() -> Path:
    """The settings file of the current data folder."""
    return data_home() / SETTINGS_FILE


def load_settings() -> Settings:
    """Saved settings; defaults where the file is missing, unreadable or partly invalid."""
    try:
        raw = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    endpoints = []
    for item in raw.get("endpoints") or []:
        ep = dataclass_from(Endpoint, item) if isinstance(item, dict) else None
        if ep and _valid(ep):
            endpoints.append(ep)
    base = dataclass_from(Settings, {k: v for k, v in raw.items() if k != "endpoints"})
    result = replace(base, endpoints=tuple(endpoints))
    return result if _valid(result) else Settings(endpoints=tuple(endpoints))


def save_settings(settings: Settings) -> None:
    """Check, then write atomically under a lock (two tabs saving never mix their files)."""
    settings.check()
    path = settings_path()
    with file_lock(path.with_name(f".{SETTINGS_FILE}.lock")):
        write_text_atomic(path, json.dumps(asdict(settings), indent=2))


def _valid(obj: Endpoint | Settings) -> bool:
    try:
        obj.check()
    except SettingsError:
        return False
    return True
