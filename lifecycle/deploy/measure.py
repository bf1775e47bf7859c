"""Measure each variant on this machine: size on disk and in memory, load time, speed, quality."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lifecycle.config import data_home
from lifecycle.deploy.variants import (
    LABELS,
    DeployError,
    folder_bytes,
    load_source,
    load_variant,
    memory_bytes,
    merge_lora,
    save_variant,
    to_bf16,
    to_int8,
    variant_of,
    wrap,
)
from lifecycle.evaluation.datasets import EvalSet
from lifecycle.evaluation.metrics import aggregate
from lifecycle.evaluation.runs import primary_key
from lifecycle.models.generation import GenerationError, GenerationResult, GenParams, generate
from lifecycle.models.loader import LoadedModel
from lifecycle.models.sources import ModelLoadError, Source, resolve
from lifecycle.prompting import PromptSpec, build_messages
from lifecycle.store import Store, now
from lifecycle.tasks import load_tasks
from lifecycle.text import slug
from lifecycle.typed import dataclass_from

MEASUREMENT = "deploy_measurement"  # record kind, one per model ref
OnStep = Callable[[str, float], None]  # (what is happening, fraction done)


@dataclass(frozen=True)
class MeasureConfig:
    """How much to run per variant: the same prompts and greedy settings for every variant."""

    examples: int = 10  # first N of the test split: about a minute a variant for SmolLM2 on CPU
    max_new_tokens: int = 64  # fits a one-sentence summary; caps the slowest variant's time


@dataclass(frozen=True)
class VariantReport:
    """The measured figures of one variant (or the reason it could not be built)."""

    name: str = ""  # fp32 | bf16 | int8 | merged
    label: str = ""
    folder: str = ""
    disk_bytes: int = 0  # every file to ship (an unmerged adapter also needs its base)
    memory_bytes: int = 0  # bytes of the tensors the loaded model holds
    load_s: float = 0.0
    ttft_s: float = 0.0  # mean time to first token
    tokens_per_s: float = 0.0  # decode speed after the first token, over all prompts
    quality: dict[str, float] = field(default_factory=dict)
    quality_key: str = ""
    examples: int = 0
    predictions: tuple[str, ...] = ()
    note: str = ""
    error: str = ""

    @property
    def primary(self) -> float:
        """The headline quality score (ROUGE-L for summaries, F1 for extraction...)."""
        return self.quality.get(self.quality_key, 0.0)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {**asdict(self), "predictions": list(self.predictions)}

    @classmethod
    def from_dict(cls, data: dict) -> VariantReport:
        """From a stored record."""
        report = dataclass_from(cls, data)
        quality = {str(k): float(v) for k, v in (data.get("quality") or {}).items()}
        return VariantReport(**{**asdict(report), "quality": quality})


def _resolve(ref: str) -> Source:
    try:
        return resolve(ref)
    except ModelLoadError as err:
        raise DeployError(str(err)) from err


def available_variants(ref: str) -> tuple[str, ...]:
    """The variants a model can have: merged only for a LoRA run."""
    kind = _resolve(ref).kind
    return ("fp32", "merged", "bf16", "int8") if kind == "adapter" else ("fp32", "bf16", "int8")


def default_workdir(ref: str) -> Path:
    """Where a model's variants are saved: data/deploy/<name>-<hash of the ref>."""
    digest = hashlib.sha256(ref.encode()).hexdigest()[:8]
    return data_home() / "deploy" / f"{slug(Path(ref).name or ref, 'model')}-{digest}"


def build_variant(ref: str, name: str, workdir: Path) -> Path:
    """Save a variant folder and return it (fp32 is the source folder itself: no copy)."""
    source = _resolve(ref)
    if name == "fp32":
        return Path(source.location)
    if name not in LABELS:
        raise DeployError(f"Unknown variant {name!r}; choose one of {', '.join(LABELS)}.")
    model, tokenizer, _, kind = load_source(ref)
    if kind == "adapter":
        model = merge_lora(model)  # bf16 and int8 of a LoRA run start from the merged model
    elif name == "merged":
        merge_lora(model)  # raises the "no adapter" message
    if name == "int8":
        model = to_int8(model, tokenizer)
    elif name == "bf16":
        model = to_bf16(model)
    return save_variant(model, tokenizer, name, Path(workdir) / name, ref)


def load_built(ref: str, name: str, folder: Path) -> LoadedModel:
    """Load a built variant, timed (an unmerged adapter loads its base, then the adapter)."""
    if name == "fp32" and _resolve(ref).kind == "adapter":
        start = time.perf_counter()
        model, tokenizer, is_seq2seq, _ = load_source(ref)
        return wrap(ref, model, tokenizer, is_seq2seq, time.perf_counter() - start)
    return load_variant(folder, ref=f"{ref} [{name}]")


def _disk(ref: str, name: str, folder: Path) -> int:
    if name == "fp32" and _resolve(ref).kind == "adapter":
        import json

        base = json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
        return folder_bytes(folder) + folder_bytes(Path(_resolve(base).location))
    return folder_bytes(folder)


def run_slice(
    lm: LoadedModel, evalset: EvalSet, config: MeasureConfig, on_example: Callable[[int], None]
) -> list[GenerationResult]:
    """Greedy answers to the first examples of a set with the task's own prompt."""
    task = load_tasks().get(evalset.task_id)
    spec = PromptSpec.for_task(task) if task else PromptSpec()
    params = GenParams(max_new_tokens=config.max_new_tokens, truncate=True)
    results = []
    for i, example in enumerate(evalset.examples[: config.examples]):
        results.append(generate(lm, build_messages(spec, {"input": example.input}), params))
        on_example(i + 1)
    return results


def score_slice(evalset: EvalSet, predictions: list[str]) -> dict[str, float]:
    """Every metric of the set on the first len(predictions) examples."""
    refs = [e.output for e in evalset.examples[: len(predictions)]]
    quality: dict[str, float] = {}
    for metric in evalset.metrics:
        quality.update(aggregate(metric, predictions, refs))
    return quality


def speed(results: list[GenerationResult]) -> tuple[float, float]:
    """(mean time to first token, decode tokens per second over all answers)."""
    ttfts = [r.ttft_s for r in results if r.ttft_s is not None]
    tokens = sum(max(0, r.completion_tokens - 1) for r in results)
    span = sum(r.latency_s - (r.ttft_s or 0.0) for r in results if r.completion_tokens > 1)
    return (sum(ttfts) / len(ttfts) if ttfts else 0.0), (tokens / span if span > 0 else 0.0)


def measure_variant(
    ref: str,
    name: str,
    evalset: EvalSet,
    config: MeasureConfig = MeasureConfig(),
    workdir: Path | None = None,
    on_step: OnStep = lambda what, done: None,
) -> VariantReport:
    """Build, reload and run one variant on the slice; every figure from this machine."""
    n = min(config.examples, len(evalset.examples))
    if n < 1:
        raise DeployError("The quality slice has no examples: pick a set with a test split.")
    on_step(f"Building the {name} variant", 0.0)
    folder = build_variant(ref, name, workdir or default_workdir(ref))
    on_step(f"Loading the {name} variant", 0.1)
    lm = load_built(ref, name, folder)

    def answered(i: int) -> None:
        on_step(f"{name}: answer {i} of {n}", 0.1 + 0.9 * i / n)

    results = run_slice(lm, evalset, config, answered)
    preds = [r.text.strip() for r in results]
    quality = score_slice(evalset, preds)
    ttft, tps = speed(results)
    adapter = _resolve(ref).kind == "adapter"
    return VariantReport(
        name=name,
        label=LABELS[name],
        folder=str(folder),
        disk_bytes=_disk(ref, name, folder),
        memory_bytes=memory_bytes(lm.model),
        load_s=round(lm.load_seconds, 3),
        ttft_s=round(ttft, 4),
        tokens_per_s=round(tps, 2),
        quality={k: round(v, 4) for k, v in quality.items()},
        quality_key=primary_key(evalset.metrics),
        examples=n,
        predictions=tuple(preds),
        note=_note(name, adapter, variant_of(folder)),
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


def measure_variants(
    ref: str,
    evalset: EvalSet,
    names: tuple[str, ...] = (),
    config: MeasureConfig = MeasureConfig(),
    workdir: Path | None = None,
    on_step: OnStep = lambda what, done: None,
) -> list[VariantReport]:
    """Measure several variants in turn; one that fails is reported with its reason."""
    names = names or available_variants(ref)
    reports = []
    for i, name in enumerate(names):

        def scaled(what: str, done: float, i: int = i) -> None:
            on_step(what, (i + done) / len(names))

        try:
            reports.append(measure_variant(ref, name, evalset, config, workdir, scaled))
        except (DeployError, GenerationError) as err:  # the other variants are still worth having
            reports.append(VariantReport(name=name, label=LABELS.get(name, name), error=str(err)))
    on_step("Done", 1.0)
    return reports


def save_measurements(
    store: Store, project_id: str, ref: str, set_name: str, reports: list[VariantReport]
) -> None:
    """Keep the measured table in the project (one record per model)."""
    data = {
        "ref": ref,
        "set_name": set_name,
        "created_at": now(),
        "reports": [r.to_dict() for r in reports],
    }
    key = hashlib.sha256(ref.encode()).hexdigest()[:16]
    store.put_record(project_id, MEASUREMENT, data, key=key)


def load_measurements(store: Store, project_id: str) -> dict[str, list[VariantReport]]:
    """The saved tables of a project, by model ref."""
    return {
        rec.data["ref"]: [VariantReport.from_dict(r) for r in rec.data.get("reports") or []]
        for rec in store.list_records(project_id, MEASUREMENT)
    }
