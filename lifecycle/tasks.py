"""The task table (knowledge/tasks.yaml) as typed objects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from lifecycle.config import KNOWLEDGE

TASK_IDS = (
    "chatbot",
    "essay_writing",
    "summarization",
    "translation",
    "code_generation",
    "information_retrieval",
    "ner",
    "external_data_api",
    "fine_tuning",
    "language_understanding",
)
ARCHITECTURES = ("encoder-only", "decoder-only", "encoder-decoder")
FITS = ("best", "good", "possible", "poor")
LADDER = ("zero-shot", "few-shot", "rag", "peft", "full-fine-tune", "rlhf")
LADDER_LABELS = {
    "zero-shot": "Zero-shot prompt",
    "few-shot": "Few-shot prompt",
    "rag": "Retrieval (RAG)",
    "peft": "PEFT (LoRA)",
    "full-fine-tune": "Full fine-tune",
    "rlhf": "Alignment (RLHF/DPO)",
}


@dataclass(frozen=True)
class Because:
    """A value with the one-line reason behind it."""

    name: str
    why: str
    fit: str = ""


@dataclass(frozen=True)
class Band:
    """The sizes worth using for one architecture on one task, in billions of parameters."""

    architecture: str
    min_b: float
    max_b: float
    customer_min_b: float  # where a customer-facing quality bar starts
    why: str
    start_at: str = ""  # the first rung on this route ("" = the task's own start)
    needs_labels: bool = False  # True: this route cannot start without labelled examples


@dataclass(frozen=True)
class Demonstration:
    """One worked input and output shown to the model for in-context learning."""

    input: str
    output: str


@dataclass(frozen=True)
class TaskPrompt:
    """How the task table prompts a task: system message, instruction, template, demonstrations."""

    system: str
    instruction: str
    template: str
    examples: tuple[Demonstration, ...]


@dataclass(frozen=True)
class Task:
    """One row of the task table, with everything the pages need to advise on it."""

    id: str
    name: str
    description: str
    keywords: tuple[str, ...]
    architectures: tuple[Because, ...]
    size_typical: str
    size_why: str
    bands: tuple[Band, ...]
    metrics: tuple[Because, ...]
    ladder: tuple[Because, ...]
    start_at: str
    start_why: str
    alignment: str  # customer-facing | if needed | not needed
    risks: tuple[Because, ...]
    prompt: TaskPrompt
    example_inputs: tuple[str, ...]

    def best_architecture(self) -> Because:
        """The architecture that fits this task best (the first listed among equals)."""
        return min(self.architectures, key=lambda a: FITS.index(a.fit))

    def band(self, architecture: str) -> Band | None:
        """The size band of one architecture, or None when it is not worth using here."""
        return next((b for b in self.bands if b.architecture == architecture), None)

    @property
    def size_min_b(self) -> float:
        """Smallest useful size over every architecture worth using."""
        return min(b.min_b for b in self.bands)

    @property
    def size_max_b(self) -> float:
        """Largest useful size over every architecture worth using."""
        return max(b.max_b for b in self.bands)

    def matches(self, query: str) -> bool:
        """Case-insensitive search over name, description and keywords."""
        hay = " ".join((self.name, self.description, *self.keywords)).casefold()
        return all(word in hay for word in query.casefold().split())


def _task(raw: dict) -> Task:
    size, prompt = raw["size_band"], raw["prompt"]
    return Task(
        id=raw["id"],
        name=raw["name"],
        description=raw["description"].strip(),
        keywords=tuple(raw.get("keywords", ())),
        architectures=tuple(Because(a["name"], a["why"], a["fit"]) for a in raw["architectures"]),
        size_typical=size["typical"],
        size_why=size["why"],
        bands=tuple(_band(arch, b) for arch, b in raw["bands"].items()),
        metrics=tuple(Because(m["name"], m["why"]) for m in raw["metrics"]),
        ladder=tuple(Because(s["step"], s["when"]) for s in raw["ladder"]),
        start_at=raw["start_at"],
        start_why=raw["start_why"],
        alignment=raw["alignment"],
        risks=tuple(Because(r["risk"], r["mitigation"]) for r in raw["risks"]),
        prompt=TaskPrompt(
            system=prompt["system"].strip(),
            instruction=prompt["instruction"].strip(),
            template=prompt["template"],
            examples=tuple(Demonstration(e["input"], e["output"]) for e in prompt["examples"]),
        ),
        example_inputs=tuple(raw["example_inputs"]),
    )


def _band(architecture: str, raw: dict) -> Band:
    return Band(
        architecture,
        float(raw["min_b"]),
        float(raw["max_b"]),
        float(raw["customer_min_b"]),
        raw["why"],
        raw.get("start_at", ""),
        bool(raw.get("needs_labels", False)),
    )


@lru_cache(maxsize=4)
def load_tasks(path: Path = KNOWLEDGE / "tasks.yaml") -> dict[str, Task]:
    """All tasks keyed by id, in the seed's order."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {t["id"]: _task(t) for t in raw["tasks"]}


def search_tasks(tasks: dict[str, Task], query: str = "", architecture: str = "") -> list[Task]:
    """Tasks matching a free-text query and, optionally, suited to an architecture."""
    found = [t for t in tasks.values() if t.matches(query)]
    if architecture:
        found = [
            t
            for t in found
            if any(a.name == architecture and a.fit in ("best", "good") for a in t.architectures)
        ]
    return found
