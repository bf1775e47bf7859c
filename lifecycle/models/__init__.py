"""Model runtime: load any local or embedded model and generate from it (heavy imports lazy)."""

from lifecycle.models.generation import (
    ContextError,
    GenerationError,
    GenerationResult,
    GenParams,
    count_tokens,
    generate,
    render_prompt,
    stream,
)
from lifecycle.models.loader import LoadedModel, load_model
from lifecycle.models.protocol import ChatModel, ChatStream, register_runtime
from lifecycle.models.sources import (
    EMBEDDED,
    EMBEDDED_NAME,
    ModelLoadError,
    embedded_ready,
    resolve,
)

__all__ = [
    "EMBEDDED",
    "EMBEDDED_NAME",
    "ChatModel",
    "ChatStream",
    "ContextError",
    "GenParams",
    "GenerationError",
    "GenerationResult",
    "LoadedModel",
    "ModelLoadError",
    "count_tokens",
    "embedded_ready",
    "generate",
    "load_model",
    "register_runtime",
    "render_prompt",
    "resolve",
    "stream",
]
