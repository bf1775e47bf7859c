"""The alignment method chooser: PPO-RLHF vs DPO vs KTO vs ORPO, with the reasons for a pick."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from lifecycle.config import KNOWLEDGE
from lifecycle.scope import ScopeAnswers

METHODS_FILE = KNOWLEDGE / "alignment_methods.yaml"


@dataclass(frozen=True)
class Method:
    """One alignment method: what data it needs, what it costs and what can go wrong."""

    id: str
    name: str
    trl_trainer: str
    data: str
    useful_pairs: int
    useful_labels: int
    models_in_memory: str
    cost: str
    strengths: str
    risks: tuple[str, ...]


@lru_cache(maxsize=1)
def load_methods() -> dict[str, Method]:
    """The methods of knowledge/alignment_methods.yaml keyed by id."""
    raw = yaml.safe_load(METHODS_FILE.read_text(encoding="utf-8"))["methods"]
    return {
        m["id"]: Method(
            m["id"],
            m["name"],
            m["trl_trainer"],
            m["data"],
            int(m.get("useful_pairs", 0)),
            int(m.get("useful_labels", 0)),
            str(m["models_in_memory"]),
            m["cost"],
            m["strengths"],
            tuple(m["risks"]),
        )
        for m in raw
    }


def _pair_reasons(m: Method, pairs: int) -> tuple[int, list[str]]:
    if pairs >= m.useful_pairs:
        return 2, [f"your {pairs:,} preference pairs are enough for it (≈{m.useful_pairs:,}+)"]
    if pairs:
        return 1, [f"{pairs:,} pairs are a start; ≈{m.useful_pairs:,} give a stable effect"]
    return -1, ["it needs preference pairs and you have none yet"]


def _score(
    m: Method, pairs: int, labels: int, answers: ScopeAnswers, gpu: bool, has_sft: bool
) -> tuple[int, list[str]]:
    budget, bar = answers.level("budget"), answers.level("quality_bar")
    if m.id == "kto":
        if labels >= m.useful_labels or (labels and labels > 2 * pairs):
            return 3, [f"your {labels:,} thumbs-up/down labels need no pairing"]
        return 0, ["it fits when you have single good/bad labels rather than pairs"]
    score, reasons = _pair_reasons(m, pairs)
    if m.id == "dpo":
        score += 1
        reasons.append("the usual default: stable, no reward model, runs with LoRA on a CPU demo")
    elif m.id == "orpo":
        if not has_sft:
            score += 2
            reasons.append("no supervised fine-tune yet: ORPO does both in one stage")
        if budget == 0:
            score += 1
            reasons.append("the smallest budget favours one stage and one model in memory")
    elif m.id == "ppo_rlhf":
        score -= 2
        reasons.append("4 models in memory and an unstable RL loop")
        if gpu and budget >= 2 and bar >= 2:
            score += 3
            reasons.append("a large budget, GPUs and a customer-facing bar can afford its control")
        elif not gpu:
            reasons.append("impractical without GPUs")
    return score, reasons


def recommend(
    pairs: int = 0,
    labels: int = 0,
    answers: ScopeAnswers | None = None,
    gpu: bool = False,
    has_sft: bool = True,
) -> list[tuple[Method, list[str]]]:
    """Every method, best fit first, each with the reasons behind its place."""
    answers = answers or ScopeAnswers()
    ranked = []
    for order, m in enumerate(load_methods().values()):
        score, reasons = _score(m, max(0, pairs), max(0, labels), answers, gpu, has_sft)
        ranked.append((-score, order, m, reasons))
    ranked.sort(key=lambda row: row[:2])
    return [(m, reasons) for _, _, m, reasons in ranked]
