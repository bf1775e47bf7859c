"""Metrics through `evaluate`, loaded offline from the modules shipped in knowledge/metrics."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lifecycle.config import KNOWLEDGE


@dataclass(frozen=True)
class MetricSpec:
    """A shipped metric module and the score keys it returns."""

    name: str
    keys: tuple[str, ...]
    label: str


METRICS = {
    "rouge": MetricSpec("rouge", ("rouge1", "rouge2", "rougeL", "rougeLsum"), "ROUGE"),
    "bleu": MetricSpec("bleu", ("bleu",), "BLEU"),
    "chrf": MetricSpec("chrf", ("chrf",), "chrF"),
    "exact_match": MetricSpec("exact_match", ("exact_match",), "Exact match"),
    "f1": MetricSpec("f1", ("f1",), "Token F1"),
    "accuracy": MetricSpec("accuracy", ("accuracy",), "Accuracy"),
}


@lru_cache(maxsize=16)
def load_metric(name: str):
    """The `evaluate` module of a shipped metric (no hub: loaded by path)."""
    import evaluate

    if name not in METRICS:
        raise KeyError(f"Unknown metric {name!r}; shipped: {', '.join(METRICS)}.")
    return evaluate.load(str(KNOWLEDGE / "metrics" / name))


def score(name: str, predictions: list[str], references: list[str]) -> dict[str, list[float]]:
    """Per-example scores, in [0, 1], for every key of a metric."""
    if len(predictions) != len(references):
        raise ValueError("Predictions and references must pair up one to one.")
    if not predictions:
        return {key: [] for key in METRICS[name].keys}
    result = load_metric(name).compute(
        predictions=predictions, references=references, use_aggregator=False
    )
    return {key: [float(v) for v in result[key]] for key in METRICS[name].keys}


def aggregate(name: str, predictions: list[str], references: list[str]) -> dict[str, float]:
    """The metric's own aggregate (corpus BLEU/chrF, means otherwise), in [0, 1]."""
    if not predictions:
        return {key: 0.0 for key in METRICS[name].keys}
    result = load_metric(name).compute(predictions=predictions, references=references)
    return {key: float(result[key]) for key in METRICS[name].keys}
