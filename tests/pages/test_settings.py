"""Settings page: runtimes, endpoints (add, refuse, test, delete, keys), folder, hub, Chroma."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from components.state import Keys
from lifecycle.config import chosen_home, home_pointer
from lifecycle.data_folder import choose_home
from lifecycle.serving import local_server
from lifecycle.serving.llamacpp import llama_available, missing_message
from lifecycle.settings import (
    LOCAL_SERVER,
    Endpoint,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
    settings_path,
)
from lifecycle.text import safe_markdown

from .helpers import button, goto, rerun, texts

PAGE = "app_pages/settings.py"
SECTIONS = [
    "Model runtimes",
    "Local llama.cpp server",
    "Endpoints (OpenAI-compatible)",
    "Data folder",
    "Hugging Face hub",
    "Vector store",
]
SECRET = "sk-test-0123456789abcdefSECRET"


def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeServer(BaseHTTPRequestHandler):
    """/slow answers after 2 s, /html with a proxy's error page, /ok serves the model 'known'."""

    def do_GET(self):  # noqa: N802 - the http.server name
        if self.path.startswith("/slow/"):
            time.sleep(2)
        if self.path.startswith("/html/"):
            body, kind, code = b"<html><title>502 Bad Gateway</title></html>", "text/html", 502
        else:
            body, kind, code = (
                json.dumps({"data": [{"id": "known"}]}).encode(),
                "application/json",
                200,
            )
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    """The base URL of a local fake OpenAI-compatible server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def page_text(at) -> str:
    """Everything the page sent to the browser, as text."""
    nodes = [*at.main, *at.sidebar]
    return "\n".join(str(getattr(n, "proto", "")) for n in nodes) + "\n".join(
        d.value.to_string() for d in at.dataframe
    )


def alerts(at) -> str:
    return "\n".join(texts(at.success) + texts(at.info) + texts(at.warning) + texts(at.error))


def fill_endpoint(at, **values):
    """Type into the endpoint form (text fields and numbers)."""
    for name, value in values.items():
        key = Keys.SETTINGS_EP + name
        widget = at.number_input(key=key) if not isinstance(value, str) else at.text_input(key=key)
        widget.set_value(value)
    return at


@pytest.fixture
def open_page(make_app):
    """Open the Settings page in a fresh session (call after preparing saved settings)."""
    return lambda: goto(make_app(), PAGE)


def test_every_section_renders_and_the_runtime_is_saved(open_page, home):
    at = open_page()
    assert texts(at.title) == ["Settings"]
    assert texts(at.subheader) == SECTIONS
    shown = alerts(at)
    assert "transformers" in shown and "always available" in shown
    assert "LIFECYCLE_EMBEDDED_RUNTIME=transformers" in shown  # the test's override is named
    assert "LIFECYCLE_HOME is set" in shown
    assert button(at, "Use this folder").disabled
    assert f"vectors are stored in {home / 'vectors'}" in shown
    if not llama_available():
        assert button(at, "Start server").disabled

    at.radio(key=Keys.SETTINGS_RUNTIME).set_value("llama.cpp")
    at.number_input(key=Keys.SETTINGS_THREADS).set_value(3)
    at = rerun(button(at, "Save runtime").click())
    saved = load_settings()
    assert (saved.embedded_runtime, saved.llama_threads) == ("llama.cpp", 3)
    assert any("Saved" in s for s in texts(at.success))


def test_add_edit_and_refuse_a_malformed_endpoint(open_page):
    at = open_page()
    assert "No endpoint yet" in alerts(at)
    fill_endpoint(at, name="vllm", base_url="localhost:8000/v1", model="qwen", retries=1)
    at = rerun(button(at, "Save endpoint").click())
    assert any("is not a URL" in e for e in texts(at.error)), texts(at.error)
    assert load_settings().endpoints == ()
    assert at.text_input(key=Keys.SETTINGS_EP + "base_url").value == "localhost:8000/v1"
    assert at.text_input(key=Keys.SETTINGS_EP + "name").value == "vllm"  # nothing lost
    assert at.number_input(key=Keys.SETTINGS_EP + "retries").value == 1
    fill_endpoint(at, base_url="http://[::1/v1")  # urlparse itself raises on this one
    at = rerun(button(at, "Save endpoint").click())
    assert any("is not a URL" in e for e in texts(at.error)), texts(at.error)
    assert load_settings().endpoints == ()

    fill_endpoint(at, base_url="http://127.0.0.1:8000/v1/")
    at = rerun(button(at, "Save endpoint").click())
    saved = load_settings().endpoint("vllm")
    assert saved == Endpoint("vllm", "http://127.0.0.1:8000/v1", "qwen", retries=1)
    assert at.text_input(key=Keys.SETTINGS_EP + "name").value == ""  # ready for the next one
    [table] = [d.value for d in at.dataframe]
    assert list(table["Name"]) == ["vllm"] and list(table["API key"]) == ["no key sent"]

    # A second endpoint with the same name is refused; editing the first changes it in place.
    fill_endpoint(at, name="vllm", base_url="http://127.0.0.1:9000/v1", model="other")
    at = rerun(button(at, "Save endpoint").click())
    assert any("exists already" in e for e in texts(at.error)), texts(at.error)
    at = rerun(at.selectbox(key=Keys.SETTINGS_EDIT).set_value("vllm"))
    assert at.text_input(key=Keys.SETTINGS_EP + "model").value == "qwen"
    fill_endpoint(at, model="qwen-2", timeout_s=5.0)
    at = rerun(button(at, "Save endpoint").click())
    assert [(e.name, e.model, e.timeout_s) for e in load_settings().endpoints] == [
        ("vllm", "qwen-2", 5.0)
    ]


def test_connection_to_an_unreachable_port_and_delete(open_page):
    url = f"http://127.0.0.1:{free_port()}/v1"
    save_settings(Settings(endpoints=(Endpoint("down", url, "m", retries=0),)))
    at = open_page()
    at = rerun(at.button(key=Keys.SETTINGS_TEST + "down").click())
    shown = texts(at.error)  # the URL as text, not a link
    assert any(e.startswith(f"Cannot reach {safe_markdown(url)}") for e in shown), shown

    assert at.button(key=Keys.SETTINGS_DELETE + "down").disabled  # until confirmed
    at = rerun(at.checkbox(key=Keys.SETTINGS_CONFIRM + "down").check())
    at = rerun(at.button(key=Keys.SETTINGS_DELETE + "down").click())
    assert load_settings().endpoints == ()
    assert "Deleted the endpoint down." in texts(at.success)
    assert "No endpoint yet" in alerts(at)


def test_slow_html_unknown_model_and_broken_urls_get_clear_lines(open_page, fake_server):
    endpoints = (
        Endpoint("slow", f"{fake_server}/slow/v1", "known", timeout_s=1, retries=0),
        Endpoint("proxy", f"{fake_server}/html/v1", "known", retries=0),
        Endpoint("typo", f"{fake_server}/ok/v1", "unknown-model", retries=0),
    )
    save_settings(Settings(endpoints=endpoints))
    at = open_page()
    for ep in endpoints:
        at = rerun(at.button(key=Keys.SETTINGS_TEST + ep.name).click())
    errors = texts(at.error)
    assert any(e.startswith("slow sent nothing for 1 s") for e in errors), errors
    assert any("answered with an HTML page (HTTP 502: 502 Bad Gateway)" in e for e in errors)
    assert any("does not serve “unknown-model”; it serves: known" in e for e in errors), errors
    with pytest.raises(SettingsError, match="is not a URL"):  # a host httpx cannot encode
        Endpoint("idna", "http://exa_mple..com:80/v1", "m").check()


def test_the_api_key_is_named_never_shown(open_page, monkeypatch):
    monkeypatch.delenv("LC_SETTINGS_TEST_KEY", raising=False)
    url = f"http://127.0.0.1:{free_port()}/v1"
    ep = Endpoint("keyed", url, "m", key_name="LC_SETTINGS_TEST_KEY", retries=0)
    save_settings(Settings(endpoints=(ep,)))
    at = open_page()
    assert "LC_SETTINGS_TEST_KEY is not set" in page_text(at)

    monkeypatch.setenv("LC_SETTINGS_TEST_KEY", SECRET)
    at = rerun(at)
    assert "key from LC_SETTINGS_TEST_KEY" in page_text(at)
    at = rerun(at.button(key=Keys.SETTINGS_TEST + "keyed").click())
    assert any("Cannot reach" in e for e in texts(at.error))
    assert SECRET not in page_text(at)
    assert SECRET not in repr(at.session_state)
    assert SECRET not in settings_path().read_text(encoding="utf-8")


def test_hub_toggle_is_saved_for_the_next_start(open_page, monkeypatch):
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = open_page()
    assert not at.toggle(key=Keys.SETTINGS_HUB).value
    at = rerun(at.toggle(key=Keys.SETTINGS_HUB).set_value(True))
    assert load_settings().hub is True
    assert any("next start" in s for s in texts(at.success)), texts(at.success)
    assert any("Restart the app" in w for w in texts(at.warning)), texts(at.warning)


def test_chroma_server_is_saved_and_its_heartbeat_shown(open_page):
    port = free_port()
    at = open_page()
    at.radio(key=Keys.SETTINGS_CHROMA + "kind").set_value("server")
    at.text_input(key=Keys.SETTINGS_CHROMA + "host").set_value("http://127.0.0.1")
    at = rerun(button(at, "Save vector store").click())
    assert any("is not a host" in e for e in texts(at.error)), texts(at.error)
    assert load_settings().chroma_kind == "embedded"

    at.text_input(key=Keys.SETTINGS_CHROMA + "host").set_value("127.0.0.1")
    at.number_input(key=Keys.SETTINGS_CHROMA + "port").set_value(port)
    at = rerun(button(at, "Save vector store").click())
    saved = load_settings()
    assert (saved.chroma_kind, saved.chroma_host, saved.chroma_port) == (
        "server",
        "127.0.0.1",
        port,
    )
    assert any(
        e.startswith(f"Cannot reach a Chroma server at 127.0.0.1:{port}") for e in texts(at.error)
    ), texts(at.error)


def test_data_folder_switch_writes_the_pointer(make_app, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("LIFECYCLE_HOME")
    first, second = tmp_path / "first", tmp_path / "second"
    choose_home(str(first))  # never the repository's ./data in a test
    at = goto(make_app(), PAGE)
    assert f"`{first}` · chosen by the Settings page" in texts(at.markdown)
    assert "Writable" in alerts(at)

    (tmp_path / "a-file").write_text("not a folder")
    for bad, why in [("relative/data", "relative path"), (tmp_path / "a-file" / "d", "Cannot")]:
        at.text_input(key=Keys.SETTINGS_FOLDER).set_value(str(bad))
        at = rerun(button(at, "Use this folder").click())
        assert any(why in e for e in texts(at.error)), texts(at.error)
        assert chosen_home() == (first, "the Settings page")

    at.text_input(key=Keys.SETTINGS_FOLDER).set_value(str(second))
    at = rerun(button(at, "Use this folder").click())
    assert home_pointer().read_text(encoding="utf-8").strip() == str(second)
    assert chosen_home() == (second, "the Settings page")
    assert f"`{second}` · chosen by the Settings page" in texts(at.markdown)
    assert f"The app now uses {second}." in texts(at.success)


def test_without_llama_cpp_the_server_is_disabled_with_the_reason(open_page, monkeypatch):
    import components.settings.ui

    monkeypatch.setattr(components.settings.ui, "llama_available", lambda: False)
    at = open_page()
    assert missing_message() in texts(at.warning)
    assert f"Disabled: {missing_message()}" in texts(at.info)
    assert button(at, "Start server").disabled and button(at, "Stop server").disabled


@pytest.mark.skipif(not llama_available(), reason="llama-cpp-python is not installed")
def test_local_llama_server_starts_registers_and_stops(open_page):
    port = free_port()
    at = open_page()
    try:
        at.number_input(key=Keys.SETTINGS_LLAMA_PORT).set_value(port)
        at = rerun(button(at, "Start server").click())
        running = [s for s in texts(at.success) if s.startswith("Running on")]
        assert running and "healthy" in running[0], alerts(at)
        assert f"Registered as the endpoint `{LOCAL_SERVER}`" in running[0]
        assert button(at, "Start server").disabled and not button(at, "Stop server").disabled
        saved = load_settings()
        assert saved.llama_port == port
        assert saved.endpoint(LOCAL_SERVER).base_url == f"http://127.0.0.1:{port}/v1"

        at = rerun(at.button(key=Keys.SETTINGS_TEST + LOCAL_SERVER).click())
        assert any(s.startswith("Connected") for s in texts(at.success)), alerts(at)

        at = rerun(button(at, "Stop server").click())
        assert any(i.startswith("Not running") and "down" in i for i in texts(at.info)), alerts(at)
        assert not any(s.startswith("Connected") for s in texts(at.success)), alerts(at)
        [log] = [c.value for c in at.code if "INFO:" in c.value]  # requests and startup
        assert "llama_graph_" not in log and "create_tensor:" not in log
        assert load_settings().endpoint(LOCAL_SERVER) is not None  # kept, shown as down
        assert not button(at, "Start server").disabled and button(at, "Stop server").disabled
    finally:
        local_server.stop()


def test_a_key_in_st_secrets_reaches_the_server(make_app, llama_url, monkeypatch):
    from tests.conftest import API_KEY

    monkeypatch.delenv("LLAMA_SECRET", raising=False)
    save_settings(Settings(endpoints=(Endpoint("llama", llama_url, "smollm2", "LLAMA_SECRET"),)))
    at = make_app()
    at.secrets["LLAMA_SECRET"] = API_KEY  # as .streamlit/secrets.toml would hold it
    at = goto(at, PAGE)
    assert "key from LLAMA_SECRET" in page_text(at)
    at = rerun(at.button(key=Keys.SETTINGS_TEST + "llama").click())
    assert any(s.startswith("Connected: smollm2 answers") for s in texts(at.success))
    assert API_KEY not in page_text(at) and API_KEY not in repr(at.session_state)
