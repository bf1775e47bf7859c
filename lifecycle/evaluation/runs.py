"""Evaluation runs: a candidate generates for every example, saved as it goes, then scored."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from lifecycle.evaluation.batches import BatchPredictor
from lifecycle.evaluation.candidate import Candidate
from lifecycle.evaluation.datasets import EvalSet
from lifecycle.evaluation.metrics import METRICS, aggregate, score
from lifecycle.evaluation.stats import Difference, paired_bootstrap
from lifecycle.models.batching import chunks
from lifecycle.models.generation import GenerationResult
from lifecycle.store import Store, StoreError, now

RUN = "eval_run"  # record kinds
# One record per predicted example, key "<run id>:<example id>": appended, never rewritten.
PREDICTION = "eval_prediction"
RATING = "human_rating"
Predictor = Callable[[str], GenerationResult]  # anything that can answer an input is a candidate


class EvalError(ValueError):
    """An evaluation that cannot run or be compared; the message says why."""


@dataclass
class EvalRun:
    """One candidate on one set: predictions so far, scores, status (partial or done)."""

    id: str
    candidate: Candidate
    set_name: str
    set_hash: str
    task_id: str
    metrics: tuple[str, ...]
    total: int
    predictions: dict[str, dict] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    per_example: dict[str, dict[str, float]] = field(default_factory=dict)
    status: str = "partial"
    created_at: str = ""
    updated_at: str = ""

    @property
    def done(self) -> int:
        """Examples predicted so far."""
        return len(self.predictions)

    def to_dict(self) -> dict:
        """JSON-ready form (as stored)."""
        data = asdict(self)
        data["candidate"] = self.candidate.to_dict()
        data["metrics"] = list(self.metrics)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> EvalRun:
        """From a stored record (fields this version does not know are ignored)."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values.setdefault("task_id", "")  # optional in the schema: older and imported runs
        values.update(
            candidate=Candidate.from_dict(data["candidate"]),
            metrics=tuple(data.get("metrics") or ()),
            predictions=dict(data.get("predictions") or {}),
        )
        return cls(**values)


def start_run(store: Store, project_id: str, candidate: Candidate, evalset: EvalSet) -> EvalRun:
    """A new, empty run of a candidate on a set."""
    if not evalset.examples:
        raise EvalError("The evaluation set has no examples.")
    stamp = now(precise=True)
    run = EvalRun(
        uuid.uuid4().hex[:12],
        candidate,
        evalset.name,
        evalset.hash,
        evalset.task_id,
        evalset.metrics,
        len(evalset.examples),
        created_at=stamp,
        updated_at=stamp,
    )
    _save(store, project_id, run)
    return run


def continue_run(
    store: Store,
    project_id: str,
    run: EvalRun,
    evalset: EvalSet,
    predict: Predictor,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    should_stop: Callable[[], bool] = lambda: False,
    predict_many: BatchPredictor | None = None,
    width: int = 1,
) -> EvalRun:
    """Predict the examples not done yet, saving as it goes, then score what exists.

    With `predict_many`, `width` examples at a time (a batch, concurrent requests): a chunk's
    predictions are saved when it ends, a stop is honoured between chunks, and an example that
    fails stops the run after the rest of its chunk is saved (resume tries it again).
    """
    if evalset.hash != run.set_hash:
        raise EvalError(f"This run was made on {run.set_name}; resume it on the same set.")
    pending = [e for e in evalset.examples if e.id not in run.predictions]
    for chunk in chunks(pending, width if predict_many else 1):
        if should_stop():
            break
        inputs = [e.input for e in chunk]
        outcomes = predict_many(inputs) if predict_many else [predict(x) for x in inputs]
        saved = 0
        for example, result in zip(chunk, outcomes):
            if isinstance(result, GenerationResult):
                _save_prediction(store, project_id, run, example.id, result)
                saved += 1
        for k in range(saved):  # per example, once the chunk is safely stored
            on_progress(run.done - saved + k + 1, run.total)
        failed = next((o for o in outcomes if not isinstance(o, GenerationResult)), None)
        if failed is not None:
            raise failed
    return _score(store, project_id, run, evalset)


def _save_prediction(
    store: Store, project_id: str, run: EvalRun, example_id: str, result: GenerationResult
) -> None:
    prediction = {
        "prediction": result.text.strip(),
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "latency_s": round(result.latency_s, 3),
    }
    # one small record per example: a stop or a crash keeps every finished one, and a long
    # run costs linear time instead of rewriting all predictions after each example
    store.put_record(project_id, PREDICTION, prediction, key=f"{run.id}:{example_id}")
    run.predictions[example_id] = prediction


def _score(store: Store, project_id: str, run: EvalRun, evalset: EvalSet) -> EvalRun:
    scored = [e for e in evalset.examples if e.id in run.predictions]
    preds = [run.predictions[e.id]["prediction"] for e in scored]
    refs = [e.output for e in scored]
    run.scores, run.per_example = {}, {}
    for name in run.metrics:
        run.scores.update(aggregate(name, preds, refs))
        for key, values in score(name, preds, refs).items():
            run.per_example[key] = {e.id: v for e, v in zip(scored, values)}
    run.status = "done" if run.done == run.total else "partial"
    _save(store, project_id, run)
    return run


def _save(store: Store, project_id: str, run: EvalRun) -> None:
    run.updated_at = now(precise=True)
    store.put_record(project_id, RUN, {**run.to_dict(), "predictions": {}}, key=run.id)


def list_eval_runs(store: Store, project_id: str) -> list[EvalRun]:
    """All evaluation runs of a project with their predictions, oldest first."""
    runs = {r.data["id"]: EvalRun.from_dict(r.data) for r in store.list_records(project_id, RUN)}
    for rec in store.list_records(project_id, PREDICTION):
        run_id, _, example_id = rec.key.partition(":")
        if run_id in runs:
            runs[run_id].predictions[example_id] = rec.data
    return sorted(runs.values(), key=lambda r: r.created_at)


def delete_eval_run(store: Store, project_id: str, run_id: str) -> None:
    """Remove a run, its predictions and its human ratings."""
    store.delete_record(project_id, RUN, run_id)
    for kind in (PREDICTION, RATING):
        store.delete_records(project_id, kind, key_prefix=f"{run_id}:")


def compare(a: EvalRun, b: EvalRun, key: str) -> Difference:
    """Paired bootstrap of b - a on the examples both predicted; same set required."""
    if a.set_hash != b.set_hash:
        raise EvalError(
            f"{a.candidate.label} was scored on {a.set_name} and "
            f"{b.candidate.label} on {b.set_name}: compare runs on the same set."
        )
    if key not in a.per_example or key not in b.per_example:
        raise EvalError(f"Both runs need the {key} metric.")
    shared = [i for i in a.per_example[key] if i in b.per_example[key]]
    if not shared:
        raise EvalError("The two runs have no scored example in common yet.")
    return paired_bootstrap(
        [a.per_example[key][i] for i in shared], [b.per_example[key][i] for i in shared]
    )


def rate(store: Store, project_id: str, run_id: str, example_id: str, rating: int) -> None:
    """Store a person's 1-5 rating of one prediction."""
    if not 1 <= rating <= 5:
        raise StoreError("Ratings go from 1 (bad) to 5 (excellent).")
    store.put_record(project_id, RATING, {"rating": rating}, key=f"{run_id}:{example_id}")


def ratings(store: Store, project_id: str, run_id: str) -> dict[str, int]:
    """Human ratings of a run's predictions, by example id."""
    prefix = f"{run_id}:"
    return {
        r.key[len(prefix) :]: int(r.data["rating"])
        for r in store.list_records(project_id, RATING)
        if r.key.startswith(prefix)
    }


_FACT = re.compile(r"\b\d+(?:[.,:]\d+)*\b|(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)*\b")


def unsupported(source: str, prediction: str) -> list[str]:
    """Names and numbers in a prediction that never occur in its input (likely invented)."""
    found = [m.group(0) for m in _FACT.finditer(prediction.strip())]
    return sorted({f for f in found if f.lower() not in source.lower()})


def primary_key(metrics: tuple[str, ...]) -> str:
    """The score key shown first (ROUGE-L for summaries, F1 for extraction...)."""
    for name, key in (("rouge", "rougeL"), ("f1", "f1"), ("chrf", "chrf"), ("bleu", "bleu")):
        if name in metrics:
            return key
    return METRICS[metrics[0]].keys[0] if metrics else ""


def best_like_for_like(runs: list[EvalRun]) -> tuple[EvalRun, list[EvalRun]] | None:
    """The best run on the same examples as the newest one, with the runs it was compared to.

    Runs on other slices or sets, and unfinished ones, score other examples: not compared.
    """
    scored = [r for r in runs if r.scores]
    finished = [r for r in scored if r.status == "done"] or scored
    if not finished:
        return None
    newest = max(finished, key=lambda r: r.updated_at)
    key = primary_key(newest.metrics)
    peers = [r for r in finished if r.set_hash == newest.set_hash and key in r.scores]
    return max(peers, key=lambda r: r.scores[key]), peers
