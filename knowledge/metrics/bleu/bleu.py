"""BLEU for `evaluate`, computed by `sacrebleu` (shipped offline), scaled to [0, 1]."""

import datasets
import evaluate
import sacrebleu

_DESCRIPTION = "BLEU: n-gram precision with a brevity penalty (sacrebleu defaults, 13a tokens)."
_KWARGS = """
Args:
    predictions: list of generated texts.
    references: list of reference texts (one per prediction).
    use_aggregator: corpus BLEU (True) or per-example sentence BLEU (False).
Returns:
    {"bleu": score in [0, 1]} or {"bleu": [score, ...]} (sacrebleu's 0-100 divided by 100).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Bleu(evaluate.Metric):
    """BLEU wrapping sacrebleu.corpus_bleu / sentence_bleu."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Papineni et al., 2002; Post, 2018 (sacrebleu).",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, use_aggregator=True):
        if use_aggregator:
            return {"bleu": sacrebleu.corpus_bleu(predictions, [references]).score / 100}
        return {
            "bleu": [
                sacrebleu.sentence_bleu(pred, [ref]).score / 100
                for pred, ref in zip(predictions, references)
            ]
        }
