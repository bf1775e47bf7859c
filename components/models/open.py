"""Open any model ref (transformers, llama.cpp, endpoint) and read API keys from secrets/env."""

from __future__ import annotations

import os

import streamlit as st

from components.resources import get_llamacpp, get_model
from lifecycle.models import ChatModel, ModelLoadError
from lifecycle.models.protocol import registered_opener
from lifecycle.serving import ENDPOINT_PREFIX, LLAMA_PREFIX, local_server, serving_choices
from lifecycle.serving.endpoint_http import clean_key
from lifecycle.serving.openai_api import EndpointError, open_endpoint
from lifecycle.settings import Endpoint, load_settings


def api_key(name: str) -> str:
    """The key in st.secrets[name] or the environment variable `name` ('' when unset).

    Read on every request and never stored: it stays out of projects, logs and session state.
    Surrounding whitespace (a newline pasted with the key) is dropped: headers cannot hold it.
    """
    if not name:
        return ""
    if name == local_server.KEY_NAME:  # the managed server's own key, kept in the data folder
        return local_server.server_key()
    try:
        value = st.secrets.get(name)
    except (FileNotFoundError, KeyError, AttributeError):
        value = None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not break the page
        value = None
    return str(value or os.environ.get(name, "")).strip()


def key_status(ep: Endpoint) -> str:
    """Where the key comes from, without showing it."""
    if not ep.key_name:
        return "no key sent"
    key = api_key(ep.key_name)
    if not key:
        return f"{ep.key_name} is not set"
    try:
        clean_key(key, ep.key_name)
    except EndpointError:
        return f"{ep.key_name} holds something that is not an API key (Test says why)"
    return f"key from {ep.key_name}"


def open_model(ref: str) -> ChatModel:
    """A model ready to generate, for any ref; raises ModelLoadError with a readable reason."""
    opener = registered_opener(ref)  # a runtime added with lifecycle.models.register_runtime
    if opener is not None:
        return opener(ref)
    if ref.startswith(ENDPOINT_PREFIX):
        ep = load_settings().endpoint(ref[len(ENDPOINT_PREFIX) :])
        if ep is None:
            raise ModelLoadError(
                f"There is no endpoint called “{ref[len(ENDPOINT_PREFIX) :]}”: add it in Settings."
            )
        try:
            return open_endpoint(ep, api_key(ep.key_name))
        except EndpointError as err:
            raise ModelLoadError(str(err)) from err
    if ref.startswith(LLAMA_PREFIX):
        return get_llamacpp(ref[len(LLAMA_PREFIX) :], load_settings().llama_threads)
    return get_model(ref)


def serving_options() -> dict[str, str]:
    """Every model that can answer prompts, the default first (refs -> labels)."""
    return serving_choices(load_settings())
