"""Metric and evaluation speed: ROUGE through our `evaluate` module vs raw rouge_score.

Prints, in one run: ROUGE over 1,000 prediction/reference pairs through lifecycle's path
(evaluate.load of the shipped module) and through rouge_score directly, their ratio (goal <= 1.1),
and evaluation throughput of the embedded model on the shipped summaries (examples/s).
Run: .venv/bin/python -m bench.metrics
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="bench-hf-"))

from rouge_score import rouge_scorer

from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.metrics import aggregate, load_metric, score
from lifecycle.evaluation.runs import Candidate, continue_run, start_run
from lifecycle.evaluation.shots import prompt_predictor
from lifecycle.models import EMBEDDED, GenParams, load_model
from lifecycle.prompting import PromptSpec
from lifecycle.store import Store
from lifecycle.tasks import load_tasks

PAIRS, ROUNDS, EXAMPLES = 1000, 5, 10
KEYS = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def rouge_pairs() -> tuple[list[str], list[str]]:
    """1,000 realistic pairs: reference summaries against shifted ones of the shipped set."""
    refs = [e.output for e in load_shipped("dialogue_summaries", "train").examples]
    refs = (refs * (PAIRS // len(refs) + 1))[:PAIRS]
    return refs[1:] + refs[:1], refs


def timed(fn) -> float:
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def main() -> None:
    preds, refs = rouge_pairs()
    load_metric("rouge")  # module load once, as the app caches it

    def raw() -> None:
        scorer = rouge_scorer.RougeScorer(KEYS, use_stemmer=True)
        scores = [scorer.score(r, p) for p, r in zip(preds, refs)]
        {k: [s[k].fmeasure for s in scores] for k in KEYS}

    ours_t, raw_t = [], []
    for _ in range(ROUNDS):  # interleaved so machine drift hits both
        ours_t.append(timed(lambda: score("rouge", preds, refs)))
        raw_t.append(timed(raw))
    ours, plain = statistics.median(ours_t), statistics.median(raw_t)
    print(
        f"ROUGE on {PAIRS} pairs: ours {ours:.2f} s, raw rouge_score {plain:.2f} s, "
        f"ratio {ours / plain:.3f} (goal <= 1.1)"
    )
    print(f"  mean ROUGE-L of the shifted pairs: {aggregate('rouge', preds, refs)['rougeL']:.3f}")

    with tempfile.TemporaryDirectory() as home:
        os.environ["LIFECYCLE_HOME"] = home
        lm = load_model(EMBEDDED)
        store = Store(Path(home) / "db.sqlite")
        project = store.create_project("bench")
        evalset = load_shipped("dialogue_summaries", "test").head(EXAMPLES)
        cand = Candidate(
            "0-shot",
            EMBEDDED,
            PromptSpec.for_task(load_tasks()["summarization"]),
            GenParams(max_new_tokens=48),
        )
        run = start_run(store, project.id, cand, evalset)
        spent = timed(
            lambda: continue_run(store, project.id, run, evalset, prompt_predictor(lm, cand))
        )
        print(
            f"evaluation throughput, embedded model, {EXAMPLES} summaries, 48 new tokens max: "
            f"{EXAMPLES / spent:.2f} examples/s"
        )


if __name__ == "__main__":
    main()
