"""Confidence for scores: bootstrap intervals and the paired bootstrap between two candidates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000  # enough for a stable 95 % interval on a few hundred examples
MIN_PAIRS = 10  # below this a bootstrap interval is too unreliable to call anything significant


@dataclass(frozen=True)
class Interval:
    """A mean and its 95 % bootstrap interval."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class Difference:
    """B minus A on the same examples, with its 95 % paired-bootstrap interval."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero on enough examples to trust it."""
        return self.n >= MIN_PAIRS and (self.low > 0 or self.high < 0)

    def verdict(self, a: str, b: str, metric: str) -> str:
        """One plain sentence for a stakeholder."""
        figures = f"({self.mean:+.3f}, 95 % CI {self.low:+.3f} to {self.high:+.3f}, n={self.n})"
        if self.n < MIN_PAIRS:
            return (
                f"Too few examples to call a winner on {metric} between {a} and {b}: "
                f"evaluate at least {MIN_PAIRS} {figures}."
            )
        if not self.significant:
            return (
                f"No significant difference in {metric} between {a} and {b} "
                f"({self.mean:+.3f}, 95 % CI {self.low:+.3f} to {self.high:+.3f}, n={self.n})."
            )
        # Said from the winner's side: its lead and the interval of that lead, both positive.
        better, worse = (b, a) if self.mean > 0 else (a, b)
        low, high = (self.low, self.high) if self.mean > 0 else (-self.high, -self.low)
        return (
            f"{better} is better on {metric} than {worse} by {abs(self.mean):.3f} "
            f"(95 % CI {low:+.3f} to {high:+.3f}, n={self.n})."
        )


def bootstrap_interval(scores: list[float], seed: int = 0) -> Interval:
    """Mean of per-example scores with a 95 % percentile bootstrap interval."""
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        return Interval(0.0, 0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (RESAMPLES, values.size))].mean(axis=1)
    return Interval(float(values.mean()), *map(float, np.percentile(means, [2.5, 97.5])))


def paired_bootstrap(a: list[float], b: list[float], seed: int = 0) -> Difference:
    """Resample examples (pairs kept together) to bound the mean difference b - a."""
    if len(a) != len(b):
        raise ValueError("A paired comparison needs the same examples for both candidates.")
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if diff.size == 0:
        return Difference(0.0, 0.0, 0.0, 0)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, (RESAMPLES, diff.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Difference(float(diff.mean()), float(low), float(high), int(diff.size))
