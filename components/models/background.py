"""A transformers model's first load in a background thread: its status in place meanwhile."""

from __future__ import annotations

from functools import partial

from components.background import OnStep, ready_ui
from components.models.load import embedded_ready_ui, load_ui
from components.resources import get_background_load, get_model
from lifecycle.heavy_imports import import_heavy
from lifecycle.models import EMBEDDED, ChatModel
from lifecycle.models.protocol import registered_opener
from lifecycle.models.sources import EMBEDDED_NAME
from lifecycle.serving import is_served


def background_model_ui(ref: str) -> ChatModel | None:
    """load_ui, except that a transformers model's first load (torch, transformers and the
    weights: seconds to a minute on a busy CPU) runs in the background with its status here.
    None until it is ready (the page goes on without it) and when it cannot load (the reason
    is in view); the page reruns when it is ready."""
    if ref == EMBEDDED and not embedded_ready_ui():
        return None
    if loads_weights_here(ref):
        job = get_background_load("model", (ref,), partial(_load_weights, ref))
        if not ready_ui(job, f"Loading {EMBEDDED_NAME if ref == EMBEDDED else ref}"):
            return None
    return load_ui(ref)  # in memory now: at once


def loads_weights_here(ref: str) -> bool:
    """True for refs this process loads with transformers (the others open in a moment)."""
    return not is_served(ref) and registered_opener(ref) is None


def _load_weights(ref: str, on_step: OnStep) -> None:
    on_step("importing torch and transformers", 0.05)
    import_heavy()  # the longest part, when first

    on_step("reading the weights", 0.7)
    get_model(ref)
