"""What every non-transformers runtime shares: the shape pages use and the request checks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from lifecycle.models.generation import GenerationResult, GenParams, Messages, drain
from lifecycle.models.progress import Progress
from lifecycle.models.protocol import check_request


def estimate_tokens(text: str) -> int:
    """About 4 characters a token for English: only for previews where no tokenizer is local."""
    return max(1, round(len(text) / 4))


@dataclass
class ServedModel:
    """A model served by another engine; pages use it like a LoadedModel."""

    ref: str
    name: str
    runtime: str  # shown to the user: which engine answers
    context_window: int
    device: str = "cpu"
    kind: str = "served"
    is_seq2seq: bool = False
    tokenizer: None = None  # no local Hugging Face tokenizer
    exact_tokens: bool = False  # True when count_tokens uses the model's own tokenizer
    load_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: int = 0

    def render_prompt(self, messages: Messages) -> str:
        """What is sent: the chat messages (the server applies the model's template)."""
        return json.dumps(messages, indent=2, ensure_ascii=False)

    def count_tokens(self, messages: Messages) -> int:
        """Prompt tokens, estimated from characters unless a subclass knows better."""
        return estimate_tokens("".join(m.get("content", "") for m in messages))

    def stream(self, messages: Messages, params: GenParams) -> ServedStream:
        """A stream of text chunks; subclasses implement it."""
        raise NotImplementedError

    def generate(self, messages: Messages, params: GenParams) -> GenerationResult:
        """Run to the end (subclasses may ask for the whole answer at once)."""
        return drain(self.stream(messages, params))


class ServedStream:
    """Iterate for text chunks; `result` is complete afterwards (even after a stop mid-way)."""

    def __init__(self, messages: Messages, params: GenParams):
        check_request(messages, params)
        self.messages, self.params = messages, params
        self.result = GenerationResult()
        self.progress = Progress()

    def __iter__(self) -> Iterator[str]:
        raise NotImplementedError
