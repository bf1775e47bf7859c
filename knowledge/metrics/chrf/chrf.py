"""chrF for `evaluate`, computed by `sacrebleu` (shipped offline), scaled to [0, 1]."""

import datasets
import evaluate
import sacrebleu

_DESCRIPTION = "chrF: character n-gram F-score (sacrebleu defaults), robust to morphology."
_KWARGS = """
Args:
    predictions: list of generated texts.
    references: list of reference texts (one per prediction).
    use_aggregator: corpus chrF (True) or per-example sentence chrF (False).
Returns:
    {"chrf": score in [0, 1]} or {"chrf": [score, ...]} (sacrebleu's 0-100 divided by 100).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Chrf(evaluate.Metric):
    """chrF wrapping sacrebleu.corpus_chrf / sentence_chrf."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Popovic, 2015. chrF: character n-gram F-score.",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, use_aggregator=True):
        if use_aggregator:
            return {"chrf": sacrebleu.corpus_chrf(predictions, [references]).score / 100}
        return {
            "chrf": [
                sacrebleu.sentence_chrf(pred, [ref]).score / 100
                for pred, ref in zip(predictions, references)
            ]
        }
