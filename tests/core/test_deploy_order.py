"""Deploy figures do not depend on the order the variants are measured in.

A tiny model's variants are really built, loaded and run; only the clock is simulated, so the
machine behaves the same in every run: the first answer of the process and of each loaded
model pays a cold start, the machine slows down as it gets busier, and each variant has its
own true decode speed. Measured in two orders, the reported figures must agree.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from lifecycle.deploy import benchmark
from lifecycle.deploy.measure import MeasureConfig
from lifecycle.deploy.tradeoff import tradeoff
from lifecycle.evaluation.datasets import EvalSet, Example

TRUE_SPEED = {"fp32": 10.0, "bf16": 12.0, "int8": 20.0}  # tokens/s on an idle, warm machine
PROCESS_COLD_S, MODEL_COLD_S = 8.0, 3.0  # imports, page cache; a model's lazy kernels
DRIFT = 0.03  # each answer finds the machine 3 % busier than the one before


class SimulatedClock:
    """Replaces the timings of real generations by those of a machine with cold starts."""

    def __init__(self, real):
        self.real, self.calls, self.seen = real, 0, set()

    def __call__(self, lm, messages, params):
        result = self.real(lm, messages, params)
        variant = lm.ref.rsplit("[", 1)[-1].rstrip("]")
        cold = PROCESS_COLD_S if not self.seen else 0.0
        cold += MODEL_COLD_S if id(lm.model) not in self.seen else 0.0
        self.seen.add(id(lm.model))
        busy = 1 + DRIFT * self.calls
        self.calls += 1
        ttft = 0.05 * busy + cold
        decode = max(1, result.completion_tokens - 1) / TRUE_SPEED[variant] * busy
        return replace(result, ttft_s=ttft, latency_s=ttft + decode * (1.5 if cold else 1.0))


EVALSET = EvalSet(
    "tiny dialogues",
    "summarization",
    ("rouge",),
    tuple(Example(str(i), f"alice: hi bob ! {i}", "alice greets bob .") for i in range(6)),
)


def measure(monkeypatch, tiny_causal, tmp_path, names):
    monkeypatch.setattr(benchmark, "generate", SimulatedClock(benchmark.generate))
    config = MeasureConfig(examples=6, max_new_tokens=8, load_rounds=1)
    reports = benchmark.measure_variants(str(tiny_causal), EVALSET, names, config, tmp_path)
    assert not [r.error for r in reports if r.error]
    return {r.name: r for r in reports}


def test_two_orders_of_measurement_give_the_same_figures(monkeypatch, tiny_causal, tmp_path):
    forward = measure(monkeypatch, tiny_causal, tmp_path / "a", ("fp32", "bf16", "int8"))
    backward = measure(monkeypatch, tiny_causal, tmp_path / "b", ("int8", "bf16", "fp32"))
    for name in TRUE_SPEED:
        a, b = forward[name], backward[name]
        assert a.tokens_per_s == pytest.approx(b.tokens_per_s, rel=0.1), name
        assert a.ttft_s == pytest.approx(b.ttft_s, rel=0.1), name  # no cold start inside
        assert a.predictions == b.predictions and a.quality == b.quality
    for figures in (forward, backward):
        ratio = figures["int8"].tokens_per_s / figures["fp32"].tokens_per_s
        assert ratio == pytest.approx(TRUE_SPEED["int8"] / TRUE_SPEED["fp32"], rel=0.15)
        low, high = figures["fp32"].tokens_per_s_range
        assert low <= figures["fp32"].tokens_per_s <= high  # the median with its spread
        assert figures["fp32"].set_name == "tiny dialogues"


def test_quality_comes_with_an_interval_and_a_verdict_on_noise(monkeypatch, tiny_causal, tmp_path):
    figures = measure(monkeypatch, tiny_causal, tmp_path, ("fp32", "int8"))
    fp32 = figures["fp32"]
    assert len(fp32.scores) == 6 and len(fp32.quality_range) == 2
    assert fp32.quality_range[0] <= fp32.primary <= fp32.quality_range[1]
    lines = tradeoff(list(figures.values()))
    assert "95 % CI" in lines[0] and "too few examples to tell, measure at least 10" in lines[0]
    assert any(
        line.startswith("Quality comes from 6 examples: each score is known to") for line in lines
    )
