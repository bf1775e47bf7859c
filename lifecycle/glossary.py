"""The glossary (knowledge/glossary.yaml) and the one function that names raw ids for people."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from lifecycle.config import KNOWLEDGE
from lifecycle.evaluation.metrics import METRICS


@dataclass(frozen=True)
class Term:
    """One glossary entry: a plain sentence and the pages where the term matters."""

    name: str
    plain: str
    where: tuple[str, ...]
    ids: tuple[str, ...] = ()
    display: str = ""


# Score keys and method ids whose name differs from their glossary entry's display name.
_EXACT = {
    "rouge": "ROUGE",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "rougeLsum": "ROUGE-Lsum",
    "full": "Full fine-tuning",
    "full-fine-tune": "Full fine-tuning",
    "zero-shot": "Zero-shot prompt",
    "few-shot": "Few-shot prompt",
    "int8": "int8 quantization",
    "int4": "int4 quantization",
    "val_score": "Validation score",
}


@lru_cache(maxsize=1)
def load_glossary() -> tuple[Term, ...]:
    """Every glossary term, in the file's order."""
    raw = yaml.safe_load((KNOWLEDGE / "glossary.yaml").read_text(encoding="utf-8"))
    return tuple(
        Term(
            name=str(t["name"]),
            plain=str(t["plain"]),
            where=tuple(str(w) for w in t.get("where", ())),
            ids=tuple(str(i) for i in t.get("ids", ())),
            display=str(t.get("display", "")),
        )
        for t in raw
    )


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    names = {i: t.display or t.name for t in load_glossary() for i in t.ids}
    metrics = {m.name: m.label for m in METRICS.values()}
    return {**names, **metrics, **_EXACT}


def display_name(raw_id: object) -> str:
    """The name people read for a metric, score key or method id ('rougeL' -> 'ROUGE-L')."""
    text = str(raw_id)
    return _names().get(text, text)


def term(name: str) -> Term | None:
    """The glossary entry of a term, by its name (case-insensitive)."""
    return next((t for t in load_glossary() if t.name.lower() == name.lower()), None)


def explain(name: str) -> str:
    """A help text for a label: the term's plain sentence and a pointer to the Glossary page."""
    found = term(name)
    return f"{found.plain} More in the Glossary page." if found else ""
