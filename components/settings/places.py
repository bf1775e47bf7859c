"""Settings page: where things live (data folder, vector store) and the Hugging Face hub."""

from __future__ import annotations

import os

import streamlit as st

from components.project import open_project
from components.settings.ui import health, notice, save, seed, set_notice
from components.state import Keys
from lifecycle.config import hub_allowed
from lifecycle.data_folder import HOME_ENV, FolderError, choose_home, folder_health, forget_home
from lifecycle.rag.health import check_host, heartbeat
from lifecycle.serving import local_server
from lifecycle.settings import load_settings
from lifecycle.text import md_code

STORE_LABELS = {"embedded": "Embedded (data folder)", "server": "Chroma server"}


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _switched(done: str) -> None:
    """Everything the page showed came from the old folder: start over from the new one."""
    for key in [k for k in st.session_state if str(k).startswith("settings_")]:
        del st.session_state[key]
    open_project(None)  # the open project lives in the old folder
    set_notice("folder", True, done)


def _can_switch() -> bool:
    if local_server.state().running:  # its pid file lives in the data folder
        set_notice("folder", False, "Stop the local llama.cpp server first (above).")
        return False
    return True


def _switch() -> None:
    if not _can_switch():
        return
    try:
        path = choose_home(st.session_state.get(Keys.SETTINGS_FOLDER, ""))
    except FolderError as err:
        set_notice("folder", False, f"Not switched: {err}")
        return
    _switched(f"The app now uses {path}.")


def _default() -> None:
    if _can_switch():
        forget_home()
        _switched("The app now uses the default data folder.")


def folder_section() -> None:
    """Where projects, runs, vectors and settings are saved, and switching to another folder."""
    st.subheader("Data folder")
    h = folder_health()
    st.markdown(f"{md_code(h.path)} · chosen by {h.source}")
    size_col, free_col = st.columns(2)
    size_col.metric("Size on disk", _size(h.size_bytes))
    free_col.metric("Free space", _size(h.free_bytes))
    if h.writable:
        health(True, "Writable: projects, runs, vectors and settings are saved here.")
    else:
        health(False, h.problem)
    locked = bool(os.environ.get(HOME_ENV))
    if locked:
        st.info(
            f"{HOME_ENV} is set, so it decides the data folder: unset it and restart the app to "
            "choose one here.",
            icon=":material/lock:",
        )
    seed(Keys.SETTINGS_FOLDER, "")
    st.text_input(
        "Switch to another folder",
        key=Keys.SETTINGS_FOLDER,
        disabled=locked,
        placeholder="/home/me/lifecycle-data",
        help="A full path; created if missing. It must be writable.",
    )
    use_col, default_col = st.columns(2)
    use_col.button(
        "Use this folder", icon=":material/folder_open:", disabled=locked, on_click=_switch
    )
    default_col.button(
        "Back to the default folder",
        icon=":material/undo:",
        disabled=locked or h.source != "the Settings page",
        on_click=_default,
    )
    notice("folder")
    st.caption(
        "Projects, settings and vectors are read from the new folder at once; the old folder "
        "is left as it is (copy it over to keep your projects)."
    )


def _save_hub() -> None:
    on = bool(st.session_state[Keys.SETTINGS_HUB])
    save(
        "hub", f"Saved: the hub is {'on' if on else 'off'} from the next start of the app.", hub=on
    )


def hub_section() -> None:
    """Allow Hugging Face hub downloads (applied when the app starts)."""
    st.subheader("Hugging Face hub")
    seed(Keys.SETTINGS_HUB, load_settings().hub)
    env = os.environ.get("LIFECYCLE_ALLOW_HUB", "").strip()
    st.toggle(
        "Allow downloads from the Hugging Face hub",
        key=Keys.SETTINGS_HUB,
        disabled=bool(env),
        on_change=_save_hub,
        help="Off: models load only from local folders and the files the app ships. The "
        "offline switches are set when the app starts, so a change applies at the next start.",
    )
    notice("hub")
    wanted = hub_allowed()
    offline = os.environ.get("HF_HUB_OFFLINE", "")
    online_now = offline.strip().lower() not in ("1", "true", "yes", "on")
    now = (
        "reachable (HF_HUB_OFFLINE is not set)" if online_now else f"off (HF_HUB_OFFLINE={offline})"
    )
    line = (
        f"In this process the hub is {now}; from the next start it is {'on' if wanted else 'off'}."
    )
    if wanted != online_now:
        st.warning(line + " Restart the app to apply it.", icon=":material/restart_alt:")
    else:
        health(True, line)
    if env:
        st.info(
            f"LIFECYCLE_ALLOW_HUB={env} is set: it decides, so the switch is off limits.",
            icon=":material/lock:",
        )


def _save_chroma() -> None:
    try:
        host = check_host(st.session_state[Keys.SETTINGS_CHROMA + "host"])
    except ValueError as err:
        set_notice("chroma", False, f"Not saved: {err}")
        return
    kind = st.session_state[Keys.SETTINGS_CHROMA + "kind"]
    save(
        "chroma",
        f"Saved: {STORE_LABELS[kind].lower()}.",
        chroma_kind=kind,
        chroma_host=host,
        chroma_port=int(st.session_state[Keys.SETTINGS_CHROMA + "port"]),
    )


def vector_section() -> None:
    """Embedded Chroma in the data folder, or a Chroma server, with its heartbeat."""
    from lifecycle.rag.store import StoreConfig

    st.subheader("Vector store")
    settings = load_settings()
    seed(Keys.SETTINGS_CHROMA + "kind", settings.chroma_kind)
    seed(Keys.SETTINGS_CHROMA + "host", settings.chroma_host)
    seed(Keys.SETTINGS_CHROMA + "port", settings.chroma_port)
    with st.form(Keys.SETTINGS_FORM + "chroma", border=False):
        st.radio(
            "Where vectors live",
            list(STORE_LABELS),
            horizontal=True,
            format_func=STORE_LABELS.get,
            key=Keys.SETTINGS_CHROMA + "kind",
        )
        host_col, port_col = st.columns([3, 1])
        host_col.text_input("Chroma server host", key=Keys.SETTINGS_CHROMA + "host")
        port_col.number_input("Port", 1, 65535, key=Keys.SETTINGS_CHROMA + "port")
        st.form_submit_button("Save vector store", icon=":material/save:", on_click=_save_chroma)
    notice("chroma")
    if settings.chroma_kind == "server":
        health(*heartbeat(settings.chroma_host, settings.chroma_port))
    else:
        health(None, f"Embedded: vectors are stored in {StoreConfig().folder()}.")
    st.caption(
        "Host and port are used when a Chroma server is chosen. Start one with "
        "`chroma run --path DIR --host 127.0.0.1 --port 8000` (it ships with chromadb)."
    )
