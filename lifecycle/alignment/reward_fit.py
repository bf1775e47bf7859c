"""Fitting the reward head: the Bradley-Terry loss, regularised and stopped by cross-validation.

With tens of pairs a head memorises its training pairs within a few dozen steps (loss near 0,
held-out accuracy near chance), so features are dropped out while training, weights decay, and
the number of steps is the one that kept the loss lowest on folds of the training pairs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lifecycle.heavy_imports import building
from lifecycle.seeding import seeded

USEFUL_ACCURACY = 0.7  # a reward model right this often is worth steering generation with
OnStep = Callable[[int, int, float], None]  # (step, total, loss)


@dataclass(frozen=True)
class RewardConfig:
    """Training settings; the same settings, data and seed give the same model."""

    hidden: int = 0  # 0 = linear head: with tens of pairs a hidden layer mostly memorises
    steps: int = 200  # at most, full-batch over precomputed embeddings: a second or two
    lr: float = 0.02
    weight_decay: float = 0.1  # keeps the head from leaning on a few embedding dimensions
    dropout: float = 0.2  # of the features while training: a few pairs are harder to memorise
    folds: int = 4  # cross-validation on the training pairs picks when to stop
    held_out: float = 0.25  # share of pairs kept aside to measure accuracy honestly
    seed: int = 0


@dataclass(frozen=True)
class Accuracy:
    """Held-out pairwise accuracy with its 95 % Wilson interval."""

    value: float
    low: float
    high: float
    n: int

    @property
    def text(self) -> str:
        """'0.83 (95 % CI 0.61-0.94, 12 held-out pairs)'."""
        return f"{self.value:.2f} (95 % CI {self.low:.2f}-{self.high:.2f}, {self.n} held-out pairs)"


def wilson(correct: int, n: int, z: float = 1.96) -> Accuracy:
    """A proportion with its Wilson score interval (sound at small n and near 0 or 1)."""
    if n <= 0:
        return Accuracy(0.0, 0.0, 1.0, 0)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Accuracy(p, max(0.0, centre - half), min(1.0, centre + half), n)


def head_for(dim: int, hidden: int) -> Any:
    """A linear head over the features, or one hidden layer when asked."""
    import torch

    with building():  # not while a model loads: its patches would change this head's init
        if hidden <= 0:
            return torch.nn.Linear(dim, 1)
        return torch.nn.Sequential(
            torch.nn.Linear(dim, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 1)
        )


def pairs_needed(held_out: float, accuracy: float = USEFUL_ACCURACY) -> tuple[int, int]:
    """(held-out pairs, pairs in all) for the interval of a model this accurate to clear 0.5."""
    n = 2
    while wilson(round(accuracy * n), n).low <= 0.5:
        n += 1
    return n, math.ceil(n / held_out)


def _loss(head: Any, good: Any, bad: Any) -> Any:
    import torch

    return -torch.nn.functional.logsigmoid(head(good) - head(bad)).mean()


def fit(
    head: Any,
    train: tuple[Any, Any],
    config: RewardConfig,
    steps: int,
    on_step: OnStep = lambda step, total, loss: None,
    check: tuple[Any, Any] | None = None,
) -> tuple[list[float], list[float]]:
    """Full-batch AdamW on the Bradley-Terry loss with feature dropout.

    Returns the training loss after each step and, given `check` pairs, their loss too.
    """
    import torch

    drop = torch.nn.functional.dropout
    optimiser = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    losses, checked = [], []
    for step in range(1, steps + 1):
        good, bad = (drop(x, config.dropout, training=True) for x in train)
        loss = _loss(head, good, bad)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(round(loss.item(), 5))
        if check is not None:
            with torch.no_grad():
                checked.append(_loss(head, *check).item())
        on_step(step, steps, losses[-1])
    return losses, checked


def early_stop(good: Any, bad: Any, config: RewardConfig) -> tuple[int, list[float]]:
    """Steps that minimise the loss on unseen pairs, by cross-validation on the training pairs.

    The held-out pairs stay untouched (they measure the accuracy), so the stopping point is
    learnt from folds of the training pairs alone; returns it with the mean fold-loss curve.
    """

    n, k = good.shape[0], min(config.folds, good.shape[0])
    if k < 2:
        return config.steps, []
    order = list(range(n))
    random.Random(config.seed).shuffle(order)
    curves = []
    for fold in (order[i::k] for i in range(k)):
        rest = [i for i in order if i not in fold]
        with seeded(config.seed):
            head = head_for(good.shape[1], config.hidden)
        _, curve = fit(
            head, (good[rest], bad[rest]), config, config.steps, check=(good[fold], bad[fold])
        )
        curves.append(curve)
    mean = [sum(c[s] for c in curves) / k for s in range(config.steps)]
    best = min(range(config.steps), key=mean.__getitem__) + 1
    return best, [round(v, 5) for v in mean]
