"""The decision points of a project (gates): their stage, question and choices. Plain data, so
the record schema can name the choices without importing the rules (lifecycle/decisions.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gate:
    """A decision point: its stage, the pages that show it, the question and its choices."""

    stage: str  # a stage id of lifecycle.stages
    pages: tuple[str, ...]  # pages (keys of lifecycle.guided.PAGE_STAGE) that ask it
    question: str
    choices: dict[str, str]  # choice id -> the decision in words (deploy: any measured variant)


GATES = {
    "adapt": Gate(
        "adapt",
        ("evaluate",),
        "Keep prompting, or fine-tune?",
        {
            "fine-tune": "Try fine-tuning (LoRA) on your examples",
            "keep-prompting": "Keep improving the prompt",
            "rag": "Add retrieval (RAG): the model lacks facts, not skill",
        },
    ),
    "adopt": Gate(
        "adapt",
        ("finetune", "evaluate"),
        "Adopt the tuned model, or keep the best prompt?",
        {
            "adopt-tuned": "Adopt the tuned model",
            "keep-prompt": "Keep the best prompt",
            "tune-more": "Train more (data or steps) and evaluate again",
        },
    ),
    "deploy": Gate("deploy", ("deploy",), "Which variant to deploy?", {}),
    "retrieval": Gate(
        "infrastructure",
        ("rag",),
        "Does retrieval find the right chunks?",
        {
            "revisit-chunking": "Revisit chunking (unit, size, overlap) before blaming the model",
            "keep-retrieval": "Keep this retrieval set-up and judge the answers",
            "add-documents": "Add the documents the questions need",
        },
    ),
}
