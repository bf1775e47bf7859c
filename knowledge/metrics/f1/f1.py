"""Token-level F1 for `evaluate`, as in the SQuAD v1.1 evaluation script."""

import re
import string
from collections import Counter

import datasets
import evaluate

_DESCRIPTION = "Harmonic mean of token precision and recall after SQuAD normalisation."
_KWARGS = """
Args:
    predictions: list of generated texts.
    references: list of reference texts (one per prediction).
    use_aggregator: mean (True) or per-example scores (False).
Returns:
    {"f1": mean in [0, 1]} or {"f1": [score, ...]}.
"""


def normalize(text):
    """Lower-case, drop punctuation and English articles, collapse white space (SQuAD v1.1)."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction, reference):
    """SQuAD v1.1 token F1 of one pair."""
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref:
        return float(pred == ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class F1(evaluate.Metric):
    """SQuAD token F1."""

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
        scores = [token_f1(p, r) for p, r in zip(predictions, references)]
        if use_aggregator:
            return {"f1": sum(scores) / len(scores) if scores else 0.0}
        return {"f1": scores}
