"""Best-of-n sampling: n sampled completions, the reward model keeps the highest-scoring one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from lifecycle.alignment.reward import RewardModel
from lifecycle.models.generation import GenerationResult, GenParams, generate
from lifecycle.models.protocol import ChatModel

MAX_N = 16  # each sample is a full generation: 16 already takes a minute on CPU
OnSample = Callable[[int, int], None]  # (done, total)


class BestOfNError(ValueError):
    """Settings best-of-n cannot use; the message says why."""


@dataclass(frozen=True)
class Scored:
    """One sampled completion with its seed, reward and generation figures."""

    seed: int
    text: str
    reward: float
    result: GenerationResult


@dataclass(frozen=True)
class BestOfN:
    """All samples with their rewards; `best` is what best-of-n returns."""

    samples: tuple[Scored, ...]
    best_index: int

    @property
    def best(self) -> Scored:
        """The highest-reward sample."""
        return self.samples[self.best_index]

    @property
    def baseline(self) -> Scored:
        """The single sample n = 1 would have returned (the first seed)."""
        return self.samples[0]

    @property
    def mean_reward(self) -> float:
        """The expected reward of one sample: what best-of-n is measured against."""
        return sum(s.reward for s in self.samples) / len(self.samples)

    @property
    def gain(self) -> float:
        """Reward of the pick minus the expected reward of a single sample."""
        return self.best.reward - self.mean_reward


def best_of_n(
    lm: ChatModel,
    messages: list[dict],
    reward: RewardModel,
    n: int = 4,
    params: GenParams = GenParams(do_sample=True, temperature=0.9),
    prompt: str = "",
    on_sample: OnSample = lambda done, total: None,
) -> BestOfN:
    """Sample n completions (seeds params.seed .. +n-1), score each, pick the highest."""
    if not 1 <= n <= MAX_N:
        raise BestOfNError(f"n must be between 1 and {MAX_N}.")
    if n > 1 and not params.do_sample:
        raise BestOfNError(
            "Greedy decoding writes the same text every time: turn sampling on so the n "
            "completions differ."
        )
    users = [m["content"] for m in messages if m["role"] == "user"]
    prompt = prompt or (users[-1] if users else "")
    results = []
    for i in range(n):
        seed = params.seed + i
        results.append((seed, generate(lm, messages, replace(params, seed=seed))))
        on_sample(i + 1, n)
    rewards = reward.score_many(prompt, [r.text.strip() for _, r in results])
    samples = tuple(
        Scored(seed, r.text.strip(), score, r) for (seed, r), score in zip(results, rewards)
    )
    best = max(range(n), key=lambda i: samples[i].reward)
    return BestOfN(samples, best)
