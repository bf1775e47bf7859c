"""What an evaluation scores: a model with a prompt and its settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from lifecycle.models.generation import GenParams
from lifecycle.prompting import PromptSpec
from lifecycle.typed import dataclass_from


@dataclass(frozen=True)
class Candidate:
    """What is evaluated: a model with a prompt and settings (later also tuned runs, RAG)."""

    label: str
    model_ref: str
    prompt: PromptSpec
    params: GenParams
    source: str = "prompt"  # prompt | version:<id> | run:<id> | rag:<id>

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "label": self.label,
            "model_ref": self.model_ref,
            "prompt": self.prompt.to_dict(),
            "params": {**asdict(self.params), "stop": list(self.params.stop)},
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Candidate:
        """From a stored run."""
        return cls(
            str(data["label"]),
            str(data["model_ref"]),
            PromptSpec.from_dict(data.get("prompt") or {}),
            dataclass_from(GenParams, data.get("params")),
            str(data.get("source", "")),
        )
