"""Accuracy for `evaluate` on text labels: a prediction is right when it names the label."""

import datasets
import evaluate

_DESCRIPTION = (
    "Share of predictions whose first line equals the reference label (case-insensitive)."
)
_KWARGS = """
Args:
    predictions: list of generated texts (the label is read from the first line).
    references: list of reference labels.
    use_aggregator: mean (True) or per-example 0/1 scores (False).
Returns:
    {"accuracy": share in [0, 1]} or {"accuracy": [0 or 1, ...]}.
"""


def label(text):
    """The label a generation names: its first non-empty line, trimmed of '.' and case."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0].strip(" .").casefold() if lines else ""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Accuracy(evaluate.Metric):
    """Label accuracy for generated classifications."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, use_aggregator=True):
        scores = [float(label(p) == label(r)) for p, r in zip(predictions, references)]
        if use_aggregator:
            return {"accuracy": sum(scores) / len(scores) if scores else 0.0}
        return {"accuracy": scores}
