"""Open any model ref (transformers, llama.cpp, endpoint) and read API keys from secrets/env."""

from __future__ import annotations

import os

import streamlit as st

from components.resources import get_llamacpp, get_model
from lifecycle.models import ModelLoadError
from lifecycle.serving import ENDPOINT_PREFIX, LLAMA_PREFIX, serving_choices
from lifecycle.serving.openai_api import EndpointError, open_endpoint
from lifecycle.settings import Endpoint, load_settings


def api_key(name: str) -> str:
    """The key in st.secrets[name] or the environment variable `name` ('' when unset).

    Read on every request and never stored: it stays out of projects, logs and session state.
    """
    if not name:
        return ""
    try:
        value = st.secrets.get(name)
    except (FileNotFoundError, KeyError, AttributeError):
        value = None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not break the page
        value = None
    return str(value or os.environ.get(name, ""))


def key_status(ep: Endpoint) -> str:
    """Where the key comes from, without showing it."""
    if not ep.key_name:
        return "no key sent"
    return f"key from {ep.key_name}" if api_key(ep.key_name) else f"{ep.key_name} is not set"


def open_model(ref: str):
    """A model ready to generate, for any ref; raises ModelLoadError with a readable reason."""
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
