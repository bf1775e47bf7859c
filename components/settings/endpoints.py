"""Settings page: OpenAI-compatible endpoints (table, add/edit form, connection test, delete)."""

from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from components.models.open import api_key, key_status
from components.settings.ui import health, notice, set_notice
from components.state import Keys
from lifecycle.serving import local_server
from lifecycle.serving.endpoint_health import Health, test_connection
from lifecycle.settings import (
    LOCAL_SERVER,
    Endpoint,
    SettingsError,
    check_url,
    load_settings,
    save_settings,
)
from lifecycle.text import md_code, md_escape

TEST_TIMEOUT_S = 30.0  # a connection test gives up sooner than a real request
FIELDS = ("name", "base_url", "model", "key_name", "timeout_s", "retries", "context_window")
KEY_HELP = """
The API key itself is **never** typed here, shown, logged or saved in the project or the
settings file: the endpoint keeps only the *name* under which the app finds it, read on each
request. Put it in either place, then restart the app:

* `.streamlit/secrets.toml` (keep it out of git): `OPENAI_API_KEY = "sk-..."`
* an environment variable: `export OPENAI_API_KEY=sk-...`

Local servers (vLLM, TGI, llama.cpp, Ollama) usually need no key: leave the name empty.
"""


def _row(ep: Endpoint) -> dict:
    return {
        "Name": ep.name,
        "Base URL": ep.base_url,
        "Model": ep.model,
        "API key": key_status(ep),
        "Timeout (s)": ep.timeout_s,
        "Retries": ep.retries,
        "Context window": ep.context_window,
    }


def endpoints_section() -> None:
    """Every saved endpoint, what it answers, and the form that adds or edits one."""
    st.subheader("Endpoints (OpenAI-compatible)")
    st.caption(
        "vLLM, TGI, llama.cpp, Ollama or OpenAI itself: every model picker offers a saved "
        "endpoint as `endpoint:<name>` beside the local models."
    )
    settings = load_settings()
    tests = st.session_state.setdefault(Keys.SETTINGS_HEALTH, {})
    if settings.endpoints:
        st.dataframe([_row(ep) for ep in settings.endpoints], hide_index=True, width="stretch")
        for ep in settings.endpoints:
            _actions(ep, tests)
    else:
        st.info("No endpoint yet: add one below.", icon=":material/info:")
    notice("endpoints")
    _form([ep.name for ep in settings.endpoints])
    with st.expander("Where the API key goes", icon=":material/key:"):
        st.markdown(KEY_HELP)


def _actions(ep: Endpoint, tests: dict) -> None:
    """Test connection and delete (with confirmation) for one endpoint."""
    with st.container(border=True):
        info, test_col, confirm_col, delete_col = st.columns(
            [4, 2, 2, 1], vertical_alignment="center"
        )
        info.markdown(
            f"**{md_escape(ep.name)}** · {md_code(ep.model)} · {md_escape(key_status(ep))}"
        )
        test = test_col.button(
            "Test connection", key=Keys.SETTINGS_TEST + ep.name, icon=":material/network_check:"
        )
        confirm = confirm_col.checkbox("Confirm delete", key=Keys.SETTINGS_CONFIRM + ep.name)
        delete_col.button(
            "Delete",
            key=Keys.SETTINGS_DELETE + ep.name,
            icon=":material/delete:",
            disabled=not confirm,
            on_click=_delete,
            args=(ep.name,),
        )
        if test:
            tests[ep.name] = _test(ep)
        if ep.name == LOCAL_SERVER and ep.name in tests and not local_server.state().running:
            tests.pop(ep.name)  # stopped since (maybe in another tab): "Connected" is stale
        if ep.name in tests:
            health(tests[ep.name][0], tests[ep.name][1])


def _test(ep: Endpoint) -> tuple[bool, str, float]:
    """Test with a capped wait, so a slow server cannot hold the page for minutes."""
    probe = replace(ep, timeout_s=min(ep.timeout_s, TEST_TIMEOUT_S))
    start = time.monotonic()
    with st.spinner(
        f"Testing {md_escape(ep.name)} (waits at most {probe.timeout_s:g} s per step)..."
    ):
        try:
            result = test_connection(probe, api_key(ep.key_name))
        except ValueError as err:  # an URL that passed the check but httpx cannot encode
            result = Health(False, f"{ep.base_url} is not a usable URL: {err}")
    line = result.line
    waited_out = time.monotonic() - start >= probe.timeout_s  # it failed by waiting
    if not result.ok and probe.timeout_s < ep.timeout_s and waited_out:
        line += f" (The test waits {probe.timeout_s:g} s; requests wait {ep.timeout_s:g} s.)"
    return result.ok, line, result.latency_ms


def _delete(name: str) -> None:
    settings = load_settings()
    kept = tuple(e for e in settings.endpoints if e.name != name)
    try:
        save_settings(replace(settings, endpoints=kept))
    except (ValueError, OSError) as err:  # SettingsError, or urlparse on a broken URL
        set_notice("endpoints", False, f"Not deleted: {err}")
        return
    st.session_state.get(Keys.SETTINGS_HEALTH, {}).pop(name, None)
    if st.session_state.get(Keys.SETTINGS_EDIT) == name:
        _fill(Endpoint(), "")
    set_notice("endpoints", True, f"Deleted the endpoint {name}.")


def _fill(ep: Endpoint, editing: str) -> None:
    """Put an endpoint's fields in the form (numbers with the types the inputs expect)."""
    st.session_state[Keys.SETTINGS_EDIT] = editing
    for name in FIELDS:
        value = getattr(ep, name)
        if name == "timeout_s":
            value = float(value)
        elif name in ("retries", "context_window"):
            value = int(value)
        st.session_state[Keys.SETTINGS_EP + name] = value


def _load_chosen() -> None:
    name = st.session_state[Keys.SETTINGS_EDIT]
    _fill(load_settings().endpoint(name) or Endpoint(), name)


def _typed() -> Endpoint:
    """The endpoint the form describes (numbers as the form holds them)."""
    value = {name: st.session_state[Keys.SETTINGS_EP + name] for name in FIELDS}
    for name in ("name", "base_url", "model", "key_name"):
        value[name] = str(value[name] or "").strip()
    return Endpoint(**value)


def _save_endpoint() -> None:
    """Check and save the form's endpoint; a refusal keeps every typed value."""
    editing = st.session_state.get(Keys.SETTINGS_EDIT, "")
    settings = load_settings()
    ep = _typed()
    try:
        ep = replace(ep, base_url=check_url(ep.base_url))
        ep.check()
        if ep.name != editing and settings.endpoint(ep.name):
            raise SettingsError(
                f"An endpoint called {ep.name} exists already: choose it under “Add or edit” "
                "to change it, or pick another name."
            )
        endpoints = [ep if e.name == editing else e for e in settings.endpoints]
        if not editing or settings.endpoint(editing) is None:
            endpoints.append(ep)
        save_settings(replace(settings, endpoints=tuple(endpoints)))
    except (ValueError, OSError) as err:  # SettingsError, or urlparse on a broken URL
        set_notice("form", False, f"Not saved: {err}")
        return
    if editing and editing != ep.name:
        st.session_state.get(Keys.SETTINGS_HEALTH, {}).pop(editing, None)
    set_notice(
        "form", True, f"Saved the endpoint {ep.name}: model pickers offer endpoint:{ep.name}."
    )
    _fill(Endpoint(), "")


def _form(names: list[str]) -> None:
    """Add a new endpoint or edit a saved one."""
    if st.session_state.get(Keys.SETTINGS_EDIT) not in ("", *names):
        _fill(Endpoint(), "")  # the endpoint being edited was deleted (maybe in another tab)
    if Keys.SETTINGS_EP + "name" not in st.session_state:
        _fill(Endpoint(), "")
    st.selectbox(
        "Add or edit",
        ["", *names],
        format_func=lambda n: f"Edit {n}" if n else "Add a new endpoint",
        key=Keys.SETTINGS_EDIT,
        on_change=_load_chosen,
    )
    key = Keys.SETTINGS_EP
    with st.form(Keys.SETTINGS_FORM + "endpoint"):
        left, right = st.columns(2)
        left.text_input("Name", key=key + "name", placeholder="vllm-local")
        right.text_input("Base URL", key=key + "base_url", placeholder="http://127.0.0.1:8000/v1")
        left.text_input("Model", key=key + "model", placeholder="Qwen/Qwen2.5-7B-Instruct")
        right.text_input(
            "API key: environment variable or secret name",
            key=key + "key_name",
            placeholder="OPENAI_API_KEY",
            help="The name only, never the key (see “Where the API key goes”). Empty: no key.",
        )
        c1, c2, c3 = st.columns(3)
        c1.number_input("Timeout (s)", 1.0, 3600.0, step=5.0, key=key + "timeout_s")
        c2.number_input("Retries", 0, 10, key=key + "retries")
        c3.number_input(
            "Context window (tokens)", 128, 10_000_000, step=1024, key=key + "context_window"
        )
        st.form_submit_button("Save endpoint", icon=":material/save:", on_click=_save_endpoint)
    notice("form")
