"""Exact match for `evaluate`, after SQuAD-style normalisation (case, punctuation, articles)."""

import re
import string

import datasets
import evaluate

_DESCRIPTION = "Share of predictions equal to their reference after SQuAD normalisation."
_KWARGS = """
Args:
    predictions: list of generated texts.
    references: list of reference texts (one per prediction).
    use_aggregator: mean (True) or per-example 0/1 scores (False).
Returns:
    {"exact_match": share in [0, 1]} or {"exact_match": [0 or 1, ...]}.
"""


def normalize(text):
    """Lower-case, drop punctuation and English articles, collapse white space (SQuAD v1.1)."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class ExactMatch(evaluate.Metric):
    """SQuAD exact match."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Rajpurkar et al., 2016. SQuAD.",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, use_aggregator=True):
        scores = [float(normalize(p) == normalize(r)) for p, r in zip(predictions, references)]
        if use_aggregator:
            return {"exact_match": sum(scores) / len(scores) if scores else 0.0}
        return {"exact_match": scores}
