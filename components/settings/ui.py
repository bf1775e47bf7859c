"""Settings page: shared helpers, the model runtimes and the local llama.cpp server."""

from __future__ import annotations

import os
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version

import streamlit as st

from components.state import Keys
from components.untrusted import show_error
from lifecycle.serving import RUNTIME_ENV, embedded_runtime, local_server
from lifecycle.serving.llamacpp import default_threads, llama_available, missing_message
from lifecycle.settings import (
    LOCAL_SERVER,
    RUNTIMES,
    Settings,
    load_settings,
    save_settings,
)
from lifecycle.text import safe_markdown

RUNTIME_LABELS = {
    "auto": "auto (llama.cpp when installed)",
    "llama.cpp": "llama.cpp",
    "transformers": "transformers",
}
LOG_LINES = 40  # of the local server's log, shown in an expander


def seed(key: str, value) -> None:
    """Start a widget on the saved value (kept while the user edits it)."""
    if key not in st.session_state:
        st.session_state[key] = value


def set_notice(section: str, ok: bool, text: str) -> None:
    """A message for a section, shown on the run after a callback saved (or refused) a change."""
    st.session_state.setdefault(Keys.SETTINGS_NOTICE, {})[section] = (ok, text)


def notice(section: str) -> None:
    """Draw (and forget) the section's pending message."""
    pending = st.session_state.get(Keys.SETTINGS_NOTICE, {}).pop(section, None)
    if pending:
        health(*pending)


def health(ok: bool | None, line: str) -> None:
    """One health line: green when it works, red when it does not, blue for plain facts."""
    line = safe_markdown(line)  # it may quote a server's reply, a URL or a model name
    if ok is None:
        st.info(line, icon=":material/info:")
    elif ok:
        st.success(line, icon=":material/check_circle:")
    else:
        st.error(line, icon=":material/error:")


def save(section: str, done: str, **changes) -> bool:
    """Save changed settings; a refused value becomes the section's message, never a traceback."""
    try:
        save_settings(replace(load_settings(), **changes))
    except (ValueError, OSError) as err:  # SettingsError, or urlparse on a broken URL
        set_notice(section, False, f"Not saved: {err}")
        return False
    set_notice(section, True, done)
    return True


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def transformers_line() -> str:
    """Versions and the device transformers models load on."""
    import torch

    from lifecycle.models.loader import pick_device

    device, dtype = pick_device()
    if device == "cuda":
        device = f"cuda ({torch.cuda.get_device_name(0)})"
    return (
        f"transformers {_package_version('transformers')} on torch {torch.__version__}: always "
        f"available; models load on {device} in {str(dtype).replace('torch.', '')}."
    )


def _save_runtime() -> None:
    save(
        "runtime",
        "Saved: model pickers now start the embedded model on this runtime.",
        embedded_runtime=st.session_state[Keys.SETTINGS_RUNTIME],
        llama_threads=int(st.session_state[Keys.SETTINGS_THREADS]),
    )


def runtimes_section() -> None:
    """transformers and llama.cpp, and which one the embedded model uses."""
    st.subheader("Model runtimes")
    settings = load_settings()
    health(True, transformers_line())
    if llama_available():
        health(
            True,
            f"llama.cpp: llama-cpp-python {_package_version('llama_cpp_python')} is "
            "installed: the fast path for GGUF models (in-process or a local server).",
        )
    else:
        st.warning(missing_message(), icon=":material/warning:")
    seed(Keys.SETTINGS_RUNTIME, settings.embedded_runtime)
    seed(Keys.SETTINGS_THREADS, settings.llama_threads)
    with st.form(Keys.SETTINGS_FORM + "runtime", border=False):
        left, right = st.columns([2, 1])
        left.radio(
            "The embedded model runs on",
            RUNTIMES,
            horizontal=True,
            format_func=RUNTIME_LABELS.get,
            key=Keys.SETTINGS_RUNTIME,
            help="Where model pickers start; any runtime can still be picked on each page.",
        )
        right.number_input(
            "llama.cpp threads",
            0,
            256,
            key=Keys.SETTINGS_THREADS,
            help=f"0 = automatic: all {default_threads()} cores of this machine.",
        )
        st.form_submit_button("Save runtime", icon=":material/save:", on_click=_save_runtime)
    notice("runtime")
    override = os.environ.get(RUNTIME_ENV, "").strip()
    st.caption(f"Now the embedded model runs on **{embedded_runtime(settings)}**.")
    if override:
        st.warning(
            f"{RUNTIME_ENV}={override} is set in this process: it overrides the saved choice "
            "until it is unset and the app restarted.",
            icon=":material/warning:",
        )


def _register(port: int) -> None:
    """Offer the managed server in every model picker (replacing an older registration)."""
    settings = load_settings()
    others = tuple(e for e in settings.endpoints if e.name != LOCAL_SERVER)
    endpoints = (*others, local_server.endpoint_for(port))
    try:
        save_settings(replace(settings, llama_port=port, endpoints=endpoints))
    except (ValueError, OSError) as err:  # SettingsError, or urlparse on a broken URL
        show_error(f"The server runs, but registering it failed: {err}", icon=":material/error:")


def _start(port: int, settings: Settings) -> None:
    threads = settings.llama_threads or default_threads()
    with st.status(f"Starting the llama.cpp server on 127.0.0.1:{port}...") as status:
        try:
            started = local_server.start(port, threads)
        except local_server.ServerError as err:
            status.update(label="The llama.cpp server did not start", state="error")
            show_error(err, icon=":material/error:")
            return
        _register(started.port)
        status.update(label=f"Started on port {started.port}", state="complete")


def server_section() -> None:
    """Start, stop and watch the llama.cpp server the app manages."""
    st.subheader("Local llama.cpp server")
    st.caption(
        "Serves the embedded model over the OpenAI API on 127.0.0.1 only. Started here, it is "
        f"registered as the endpoint `{LOCAL_SERVER}`, so every model picker offers it."
    )
    settings = load_settings()
    available = llama_available()
    if not available:
        st.info(f"Disabled: {missing_message()}", icon=":material/block:")
    seed(Keys.SETTINGS_LLAMA_PORT, settings.llama_port)
    port_col, start_col, stop_col = st.columns([2, 1, 1], vertical_alignment="bottom")
    with st.container():  # under the buttons: progress of what a click asked for
        action = st.session_state.pop(Keys.SETTINGS_SERVER_ACTION, None)
        if action == "start" and available:
            _start(int(st.session_state[Keys.SETTINGS_LLAMA_PORT]), settings)
        elif action == "stop":
            with st.spinner("Stopping the llama.cpp server..."):
                local_server.stop()
    current = local_server.state()  # after the action, so the buttons match it
    port_col.number_input(
        "Port", 1024, 65535, key=Keys.SETTINGS_LLAMA_PORT, disabled=not available or current.running
    )
    start_col.button(
        "Start server",
        icon=":material/play_arrow:",
        disabled=not available or current.running,
        on_click=_ask,
        args=("start",),
    )
    stop_col.button(
        "Stop server",
        icon=":material/stop:",
        disabled=not current.running,
        on_click=_ask,
        args=("stop",),
    )
    _server_health(current)


def _ask(action: str) -> None:
    """Run the action in the script (not the callback), where its progress can be drawn."""
    st.session_state[Keys.SETTINGS_SERVER_ACTION] = action
    # The endpoint's last connection test was of the server as it was: it no longer holds.
    st.session_state.get(Keys.SETTINGS_HEALTH, {}).pop(LOCAL_SERVER, None)


def _server_health(current: local_server.ServerState) -> None:
    registered = load_settings().endpoint(LOCAL_SERVER) is not None
    where = f" Registered as the endpoint `{LOCAL_SERVER}`." if registered else ""
    if current.running:
        health(current.healthy, current.line + where)
    else:
        down = " (down: start it to use that endpoint)" if registered else ""
        health(None, current.line + (where[:-1] + down + "." if registered else ""))
    log = local_server.log_file()
    with st.expander("Server log (last lines)", icon=":material/article:"):
        lines = local_server.readable_log(LOG_LINES)  # without llama.cpp's graph debug lines
        st.code("\n".join(lines) or "(empty: the server has not run in this data folder)", "text")
        st.caption(f"Full log: {log}")
