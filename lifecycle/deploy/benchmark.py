"""Measure variants fairly: built, loaded and warmed up first, then timed in interleaved rounds."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.deploy.measure import (
    MeasureConfig,
    OnStep,
    VariantReport,
    available_variants,
    build_variant,
    default_workdir,
    load_built,
    resolve_model,
    score_slice,
    shipped_bytes,
)
from lifecycle.deploy.variants import LABELS, DeployError, memory_bytes, variant_of
from lifecycle.evaluation.datasets import EvalSet, Example
from lifecycle.evaluation.metrics import METRICS, score
from lifecycle.evaluation.runs import primary_key
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.models.generation import GenerationError, GenerationResult, GenParams, generate
from lifecycle.models.loader import LoadedModel
from lifecycle.prompting import PromptSpec, build_messages
from lifecycle.tasks import load_tasks


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(median, first quartile, third quartile) of some timings."""
    if len(values) < 2:
        v = values[0] if values else 0.0
        return v, v, v
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q2, q1, q3


def rotated(items: list, shift: int) -> list:
    """The list started at position `shift`: each round takes the variants in another order."""
    k = shift % len(items) if items else 0
    return items[k:] + items[:k]


@dataclass
class _Variant:
    """A built variant under measurement: its folder, loaded model, load times and answers."""

    name: str
    folder: Path
    lm: LoadedModel | None = None
    loads: list[float] = field(default_factory=list)
    results: list[GenerationResult] = field(default_factory=list)

    @property
    def loaded(self) -> LoadedModel:
        """The loaded model (a variant whose load failed is out of the measurement)."""
        if self.lm is None:
            raise DeployError(f"The {self.name} variant is not loaded.")
        return self.lm


def measure_variants(
    ref: str,
    evalset: EvalSet,
    names: tuple[str, ...] = (),
    config: MeasureConfig = MeasureConfig(),
    workdir: Path | None = None,
    on_step: OnStep = lambda what, done: None,
) -> list[VariantReport]:
    """Build the variants, then load, warm up and time them in interleaved rounds.

    Measured one after the other, the first variant pays the cold start (disk cache, lazy
    kernels, the allocator) and a machine whose load drifts favours whichever ran in the quiet
    spell. So every variant is loaded and warmed up before any timing, each round answers one
    example with every variant in a rotated order, and medians come with their spread. A
    variant that fails is reported with its reason; the others are still measured.
    """
    names = tuple(names or available_variants(ref))
    n = min(config.examples, len(evalset.examples))
    if n < 1:
        raise DeployError("The quality slice has no examples: pick a set with a test split.")
    failed: dict[str, str] = {}
    built = []
    for i, name in enumerate(names):
        on_step(f"Building the {name} variant", 0.2 * i / len(names))
        try:
            built.append(_Variant(name, build_variant(ref, name, workdir or default_workdir(ref))))
        except DeployError as err:
            failed[name] = str(err)
    live = _load(ref, built, config, failed, on_step)
    _rounds(live, evalset, config, n, failed, on_step)
    reports = []
    for name in names:
        variant = next((v for v in live if v.name == name and name not in failed), None)
        if variant is None:
            reports.append(
                VariantReport(name=name, label=LABELS.get(name, name), error=failed[name])
            )
        else:
            reports.append(_report(ref, variant, evalset))
    on_step("Done", 1.0)
    return reports


def _load(
    ref: str, built: list[_Variant], config: MeasureConfig, failed: dict, on_step: OnStep
) -> list[_Variant]:
    """Load every variant in interleaved rounds (the last load is kept for the answers)."""
    rounds = max(1, config.load_rounds)
    for r in range(rounds):
        for v in rotated([v for v in built if v.name not in failed], r):
            on_step(f"Loading the {v.name} variant ({r + 1}/{rounds})", 0.2 + 0.1 * r / rounds)
            v.lm = None  # let the previous copy go before loading the next
            try:
                v.lm = load_built(ref, v.name, v.folder)
            except DeployError as err:
                failed[v.name] = str(err)
                continue
            v.loads.append(v.lm.load_seconds)
    return [v for v in built if v.name not in failed]


def _rounds(
    live: list[_Variant],
    evalset: EvalSet,
    config: MeasureConfig,
    n: int,
    failed: dict,
    on_step: OnStep,
) -> None:
    """Warm each variant up untimed, then answer example i with every variant, rotated."""
    params = GenParams(max_new_tokens=config.max_new_tokens, truncate=True)
    first = _messages(evalset, evalset.examples[0])
    for v in live:
        on_step(f"Warming up the {v.name} variant", 0.3)
        for _ in range(config.warmup):
            _answer(v, first, params, failed)
    for i, example in enumerate(evalset.examples[:n]):
        messages = _messages(evalset, example)
        for v in rotated([v for v in live if v.name not in failed], i):
            on_step(f"Example {i + 1} of {n}: {v.name}", 0.3 + 0.7 * i / n)
            result = _answer(v, messages, params, failed)
            if result is not None:
                v.results.append(result)


def _answer(
    v: _Variant, messages: list[dict], params: GenParams, failed: dict
) -> GenerationResult | None:
    try:
        return generate(v.loaded, messages, params)
    except GenerationError as err:  # this variant is out; the others go on
        failed[v.name] = str(err)
        return None


def _messages(evalset: EvalSet, example: Example) -> list[dict]:
    task = load_tasks().get(evalset.task_id)
    spec = PromptSpec.for_task(task) if task else PromptSpec()
    return build_messages(spec, {"input": example.input})


def per_example(evalset: EvalSet, predictions: list[str], key: str) -> list[float]:
    """The headline score of each prediction (what the quality interval resamples)."""
    refs = [e.output for e in evalset.examples[: len(predictions)]]
    for name in evalset.metrics:
        if key in METRICS.get(name, METRICS["rouge"]).keys:
            return score(name, predictions, refs)[key]
    return []


def _report(ref: str, v: _Variant, evalset: EvalSet) -> VariantReport:
    preds = [r.text.strip() for r in v.results]
    key = primary_key(evalset.metrics)
    scores = per_example(evalset, preds, key)
    interval = bootstrap_interval(scores)
    ttft = quartiles([r.ttft_s for r in v.results if r.ttft_s is not None])
    tps = quartiles([r.tokens_per_s for r in v.results if r.completion_tokens > 1])
    adapter = resolve_model(ref).kind == "adapter"
    return VariantReport(
        name=v.name,
        label=LABELS[v.name],
        folder=str(v.folder),
        disk_bytes=shipped_bytes(ref, v.name, v.folder),
        memory_bytes=memory_bytes(v.loaded.model),
        load_s=round(statistics.median(v.loads), 3),
        ttft_s=round(ttft[0], 4),
        tokens_per_s=round(tps[0], 2),
        ttft_range=(round(ttft[1], 4), round(ttft[2], 4)),
        tokens_per_s_range=(round(tps[1], 2), round(tps[2], 2)),
        quality={k: round(val, 4) for k, val in score_slice(evalset, preds).items()},
        quality_key=key,
        quality_range=(round(interval.low, 4), round(interval.high, 4)) if scores else (),
        scores=tuple(round(x, 4) for x in scores),
        examples=len(preds),
        set_name=evalset.name,
        predictions=tuple(preds),
        note=_note(v.name, adapter, variant_of(v.folder)),
    )


def _note(name: str, adapter: bool, marker: dict) -> str:
    notes = ["built from the merged model"] if adapter and name in ("bf16", "int8") else []
    kept, done = len(marker.get("fp32_linears") or []), len(marker.get("quantized") or [])
    if name == "int8" and kept:
        notes.append(
            f"{kept} of {kept + done} Linear layers kept in fp32: their inputs carry activation "
            "outliers that one int8 scale per tensor would flatten"
        )
    return "; ".join(notes)
