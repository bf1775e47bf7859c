"""Prompt candidates as predictors, and the shots curve: is prompting still paying off?"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from lifecycle.evaluation.batches import eval_width, prompt_batch_predictor
from lifecycle.evaluation.datasets import EvalSet
from lifecycle.evaluation.runs import Candidate, EvalRun, Predictor, continue_run, start_run
from lifecycle.models.generation import generate
from lifecycle.models.protocol import ChatModel
from lifecycle.prompting import SHOTS, fit_prompt
from lifecycle.store import Store

PLATEAU_GAIN = 0.01  # less than one point from two more examples: prompting has levelled off
_SHOTS_SUFFIX = re.compile(r"(?:\s*·\s*\d+-shot(?: \(shots curve\))?)+$")


@dataclass(frozen=True)
class ShotPoint:
    """The score at one number of examples, and how much of the window the prompt uses."""

    shots: int
    score: float
    prompt_tokens: float
    window_share: float
    run_id: str


def prompt_predictor(lm: ChatModel, candidate: Candidate) -> Predictor:
    """Answer an input with the candidate's prompt and settings."""

    def predict(text: str):
        # an over-long input is cut at its end (with truncation on), never the instructions
        fitted = fit_prompt(lm, candidate.prompt, {"input": text}, candidate.params)
        result = generate(lm, fitted.messages, candidate.params)
        result.truncated_tokens += fitted.dropped_tokens
        return result

    return predict


def shots_curve(
    store: Store,
    project_id: str,
    lm: ChatModel,
    base: Candidate,
    evalset: EvalSet,
    key: str,
    shots: tuple[int, ...] = SHOTS,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    width: int = 0,
) -> list[ShotPoint]:
    """Evaluate the same prompt with 0, 1, 2, 3 and 5 examples on a slice of the set.

    Each point runs as an evaluation does: `width` examples at a time (0 = the runtime's own
    choice: batches on transformers, concurrent requests to an endpoint, one by one otherwise).
    """
    points, total = [], len(shots) * len(evalset.examples)
    for i, k in enumerate(shots):
        label = f"{curve_name(base.label)} · {k}-shot (shots curve)"
        cand = replace(base, label=label, prompt=replace(base.prompt, shots=k))
        run = start_run(store, project_id, cand, evalset)
        offset = i * len(evalset.examples)

        def progress(done: int, _: int, offset: int = offset) -> None:
            on_progress(offset + done, total)

        size = eval_width(lm, cand, width)
        many = prompt_batch_predictor(lm, cand, size) if size > 1 else None
        run = continue_run(
            store,
            project_id,
            run,
            evalset,
            prompt_predictor(lm, cand),
            progress,
            predict_many=many,
            width=size,
        )
        points.append(_point(run, k, key, lm.context_window))
    return points


def curve_name(label: str) -> str:
    """A candidate's label without its shot count (each point of the curve names its own)."""
    return _SHOTS_SUFFIX.sub("", label).strip() or "Prompt"


def _point(run: EvalRun, shots: int, key: str, window: int) -> ShotPoint:
    # an imported run may lack the token counts
    tokens = [p.get("prompt_tokens") or 0 for p in run.predictions.values()]
    mean = sum(tokens) / len(tokens) if tokens else 0.0
    return ShotPoint(shots, run.scores.get(key, 0.0), mean, mean / window, run.id)


def plateau_verdict(points: list[ShotPoint]) -> str:
    """A plain sentence: keep prompting, or consider fine-tuning."""
    if len(points) < 3:
        return "Run at least three shot counts to judge the trend."
    best = max(points, key=lambda p: p.score)
    last_gain = points[-1].score - points[-2].score
    crowded = points[-1].window_share > 0.5
    if last_gain < PLATEAU_GAIN or crowded:
        why = f"{last_gain:+.3f} from {points[-2].shots} to {points[-1].shots} examples" + (
            f", and the prompt fills {points[-1].window_share:.0%} of the window" if crowded else ""
        )
        return (
            f"Prompting has plateaued ({why}); the best is {best.score:.3f} at {best.shots} "
            "shots. Consider fine-tuning (LoRA) on your examples."
        )
    return (
        f"Examples still help ({last_gain:+.3f} from {points[-2].shots} to "
        f"{points[-1].shots}); keep improving the prompt before fine-tuning."
    )
