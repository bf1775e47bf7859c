"""ROUGE-1/2/L/Lsum for `evaluate`, computed by Google's `rouge_score` (shipped offline)."""

import datasets
import evaluate
from rouge_score import rouge_scorer

_DESCRIPTION = (
    "ROUGE n-gram and longest-common-subsequence overlap between predictions and references."
)
_KWARGS = """
Args:
    predictions: list of generated texts.
    references: list of reference texts (one per prediction).
    rouge_types: subset of ["rouge1", "rouge2", "rougeL", "rougeLsum"].
    use_stemmer: Porter-stem words before matching (default True).
    use_aggregator: return the mean F1 (True) or per-example F1 lists (False). The mean is exact
        and deterministic; confidence intervals come from the app's paired bootstrap.
Returns:
    {rouge_type: mean F1} or {rouge_type: [F1, ...]}, all in [0, 1].
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Rouge(evaluate.Metric):
    """ROUGE wrapping rouge_score.RougeScorer."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Lin, 2004. ROUGE: A Package for Automatic Evaluation of Summaries.",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(
        self, predictions, references, rouge_types=None, use_stemmer=True, use_aggregator=True
    ):
        rouge_types = rouge_types or ["rouge1", "rouge2", "rougeL", "rougeLsum"]
        scorer = rouge_scorer.RougeScorer(rouge_types=rouge_types, use_stemmer=use_stemmer)
        scores = [scorer.score(ref, pred) for ref, pred in zip(references, predictions)]
        per_example = {key: [score[key].fmeasure for score in scores] for key in rouge_types}
        if use_aggregator:
            return {key: sum(v) / len(v) if v else 0.0 for key, v in per_example.items()}
        return per_example
