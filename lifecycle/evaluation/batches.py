"""Prompt candidates answering a chunk of examples at once, at the speed of their runtime."""

from __future__ import annotations

from collections.abc import Callable

from lifecycle.evaluation.candidate import Candidate
from lifecycle.models.batching import MAX_WIDTH, BatchModel, Outcome, auto_width, generate_many
from lifecycle.models.protocol import ChatModel, GenerationError, GenerationResult
from lifecycle.prompting import fit_prompt

# Inputs of a chunk -> one outcome each, in order: a result, or the error that example raised.
BatchPredictor = Callable[[list[str]], list[Outcome | ValueError]]


def eval_width(lm: ChatModel, candidate: Candidate, chosen: int = 0) -> int:
    """Examples answered at once: the chosen number, or the runtime's (0 = auto).

    Sampling runs keep one at a time on runtimes that batch in-process (the seed would then
    depend on the batch); transformers decides that itself in `auto_width`/`generate_many`.
    """
    if not isinstance(lm, BatchModel):
        return 1  # a runtime that answers one at a time (llama.cpp in-process, test fakes)
    return min(MAX_WIDTH, chosen) if chosen > 0 else auto_width(lm, candidate.params)


def prompt_batch_predictor(lm: ChatModel, candidate: Candidate, width: int) -> BatchPredictor:
    """Answer a chunk of inputs with the candidate's prompt, `width` at a time, in order."""

    def predict_many(inputs: list[str]) -> list[Outcome | ValueError]:
        outcomes: list[Outcome | ValueError | None] = [None] * len(inputs)
        fitted = []
        for i, text in enumerate(inputs):
            try:  # an over-long input is cut at its end (with truncation on), or refused
                fitted.append(
                    (i, fit_prompt(lm, candidate.prompt, {"input": text}, candidate.params))
                )
            except (ValueError, GenerationError) as err:
                outcomes[i] = err
        answers = generate_many(lm, [f.messages for _, f in fitted], candidate.params, width)
        for (i, f), answer in zip(fitted, answers):
            if isinstance(answer, GenerationResult):
                answer.truncated_tokens += f.dropped_tokens
            outcomes[i] = answer
        return [o if o is not None else GenerationError("No answer.") for o in outcomes]

    return predict_many
