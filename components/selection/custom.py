"""A model outside the catalogue: its exact shape from a config.json, a folder or the hub."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.state import Keys
from components.untrusted import show_error
from lifecycle.config import hub_allowed
from lifecycle.selection.configs import (
    MAX_CONFIG_BYTES,
    ConfigError,
    config_from_folder,
    config_from_hub,
    parse_config,
    shape_record,
    spec_from_config,
)

HOW = ("config.json", "local folder", "hub id", "size only")
MAX_CUSTOM_B = 10_000.0  # billions of parameters the size input accepts


def custom_model_inputs() -> tuple[str, int, dict | None]:
    """(model id, parameters, shape read from a config or None) for a model outside the list."""
    how = st.radio(
        "Describe it by",
        HOW,
        key=Keys.MODEL_CUSTOM_HOW,
        horizontal=True,
        help="A config.json gives the exact shape (layers, KV heads, head size) and parameter "
        "count; the size alone leaves the shape to a guess.",
    )
    label = "Hugging Face id" if how == "hub id" else "Name (hub id or your label)"
    custom_id = st.text_input(label, key=Keys.MODEL_CUSTOM_ID, max_chars=300).strip()
    if how == "size only":
        size_b = st.number_input(
            "Parameters (billions)",
            min_value=0.0,
            max_value=MAX_CUSTOM_B,
            step=0.1,
            format="%.3f",
            key=Keys.MODEL_CUSTOM_PARAMS,
        )
        params = int(round(size_b * 1e9))
        if not custom_id or params <= 0:
            st.error("Enter the model's id and a positive number of parameters to use it.")
        return custom_id, params, None
    _source_inputs(how)
    st.button("Read the shape", on_click=_read, args=(how,), icon=":material/schema:")
    if st.session_state.get(Keys.MODEL_CUSTOM_ERROR):
        show_error(st.session_state[Keys.MODEL_CUSTOM_ERROR])
    shape = st.session_state.get(Keys.MODEL_CUSTOM_SHAPE)
    if not shape:
        st.info("Read the config to use this model; nothing is downloaded but its config.json.")
        return custom_id, 0, None
    st.caption(
        f"Read from its config: {shape['architecture']} ({shape['model_type']}), "
        f"{shape['params']:,} parameters, {shape['layers']} layers, {shape['heads']} attention "
        f"heads of which {shape['kv_heads']} key/value heads."
    )
    return custom_id or "custom model (config.json)", shape["params"], shape


def _source_inputs(how: str) -> None:
    if how == "config.json":
        left, right = st.columns(2)
        left.file_uploader(
            "Upload config.json",
            key=Keys.MODEL_CUSTOM_FILE,
            max_upload_size=max(1, MAX_CONFIG_BYTES // 1_000_000),
        )
        right.text_area("…or paste it", key=Keys.MODEL_CUSTOM_TEXT, height=120)
    elif how == "local folder":
        st.text_input("Model folder on this machine", key=Keys.MODEL_CUSTOM_FOLDER)
    elif not hub_allowed():
        st.caption("The Hugging Face hub is off (Settings): upload or paste the config instead.")


def _read(how: str) -> None:
    """Button callback: read the config, keep its shape (or the reason it could not be read)."""
    state = st.session_state
    state[Keys.MODEL_CUSTOM_ERROR] = ""
    try:
        with st.spinner("Reading the config and counting parameters (no weights)…"):
            raw, name = _raw_config(how)
            spec = spec_from_config(raw, name)
    except ConfigError as err:
        state[Keys.MODEL_CUSTOM_ERROR] = str(err)
        return
    state[Keys.MODEL_CUSTOM_SHAPE] = shape_record(spec)
    if not (state.get(Keys.MODEL_CUSTOM_ID) or "").strip():
        state[Keys.MODEL_CUSTOM_ID] = name


def _raw_config(how: str) -> tuple[dict, str]:
    state = st.session_state
    if how == "local folder":
        folder = (state.get(Keys.MODEL_CUSTOM_FOLDER) or "").strip()
        return config_from_folder(folder), Path(folder).name or folder
    if how == "hub id":
        repo = (state.get(Keys.MODEL_CUSTOM_ID) or "").strip()
        if not repo:
            raise ConfigError("Enter the model's Hugging Face id first.")
        return config_from_hub(repo), repo
    upload = state.get(Keys.MODEL_CUSTOM_FILE)
    if upload is not None:
        return parse_config(upload.getvalue()), "custom model (config.json)"
    text = (state.get(Keys.MODEL_CUSTOM_TEXT) or "").strip()
    if not text:
        raise ConfigError("Upload or paste the model's config.json first.")
    return parse_config(text), "custom model (config.json)"
