"""Serving backends beside transformers: llama.cpp (in-process or a local server) and any
OpenAI-compatible endpoint. Model refs: `llamacpp:embedded`, `llamacpp:/path/x.gguf`,
`endpoint:<name>` (an endpoint saved in Settings)."""

from __future__ import annotations

import os

from lifecycle.models.sources import EMBEDDED, EMBEDDED_NAME
from lifecycle.serving.llamacpp import llama_available
from lifecycle.settings import RUNTIMES, Settings

ENDPOINT_PREFIX = "endpoint:"
LLAMA_PREFIX = "llamacpp:"
LLAMA_EMBEDDED = "llamacpp:embedded"
LLAMA_EMBEDDED_NAME = "SmolLM2-135M-Instruct (embedded, llama.cpp fast path)"
RUNTIME_ENV = "LIFECYCLE_EMBEDDED_RUNTIME"  # overrides the setting (auto|llama.cpp|transformers)


def is_served(ref: str) -> bool:
    """True for refs another engine answers (no local transformers model to train or quantize)."""
    return ref.startswith((ENDPOINT_PREFIX, LLAMA_PREFIX))


def embedded_runtime(settings: Settings) -> str:
    """The runtime the embedded model uses by default: llama.cpp or transformers."""
    wanted = os.environ.get(RUNTIME_ENV, "").strip()
    if wanted not in RUNTIMES:  # unset or a typo: the saved setting decides
        wanted = settings.embedded_runtime
    if wanted == "transformers" or not llama_available():
        return "transformers"
    return "llama.cpp"


def default_ref(settings: Settings) -> str:
    """What model pickers start on: the embedded model on its default runtime."""
    return LLAMA_EMBEDDED if embedded_runtime(settings) == "llama.cpp" else EMBEDDED


def serving_choices(settings: Settings) -> dict[str, str]:
    """Refs and labels of every model that can answer prompts (not necessarily be trained)."""
    choices = {EMBEDDED: EMBEDDED_NAME.replace("offline)", "offline, transformers)")}
    if llama_available():
        choices[LLAMA_EMBEDDED] = LLAMA_EMBEDDED_NAME
    for ep in settings.endpoints:
        choices[ENDPOINT_PREFIX + ep.name] = f"Endpoint {ep.name}: {ep.model}"
    first = default_ref(settings)
    return {first: choices[first], **{k: v for k, v in choices.items() if k != first}}
