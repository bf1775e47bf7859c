"""Measure each variant on this machine: size on disk and in memory, load time, speed, quality."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from lifecycle.config import data_home
from lifecycle.data_folder import folder_size
from lifecycle.deploy import gguf_variants
from lifecycle.deploy.gguf import GgufError
from lifecycle.deploy.variants import (
    LABELS,
    DeployError,
    load_source,
    load_variant,
    merge_lora,
    resolve_model,
    save_variant,
    to_bf16,
    to_int8,
    wrap,
)
from lifecycle.evaluation.datasets import EvalSet
from lifecycle.evaluation.metrics import aggregate
from lifecycle.models.generation import GenerationResult, GenParams, generate
from lifecycle.models.loader import LoadedModel
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
    warmup: int = 1  # untimed answers per variant first: the first pays one-off costs
    load_rounds: int = 3  # loads per variant, interleaved; the median load time is reported


@dataclass(frozen=True)
class VariantReport:
    """The measured figures of one variant (or the reason it could not be built)."""

    name: str = ""  # fp32 | bf16 | int8 | merged
    label: str = ""
    folder: str = ""
    disk_bytes: int = 0  # every file to ship (an unmerged adapter also needs its base)
    memory_bytes: int = 0  # bytes of the tensors the loaded model holds
    load_s: float = 0.0  # median of the interleaved loads
    ttft_s: float = 0.0  # median time to first token over the answers
    tokens_per_s: float = 0.0  # median decode speed after the first token, over the answers
    ttft_range: tuple[float, ...] = ()  # (first quartile, third quartile) of the answers
    tokens_per_s_range: tuple[float, ...] = ()  # the same spread of the decode speed
    quality: dict[str, float] = field(default_factory=dict)
    quality_key: str = ""
    quality_range: tuple[float, ...] = ()  # 95 % bootstrap interval of the headline score
    scores: tuple[float, ...] = ()  # the headline score of each example (paired comparisons)
    examples: int = 0
    set_name: str = ""  # the test set the quality was measured on
    predictions: tuple[str, ...] = ()
    note: str = ""
    error: str = ""

    @property
    def primary(self) -> float:
        """The headline quality score (ROUGE-L for summaries, F1 for extraction...)."""
        return self.quality.get(self.quality_key, 0.0)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict) -> VariantReport:
        """From a stored record."""
        report = dataclass_from(cls, data)
        quality = {str(k): float(v) for k, v in (data.get("quality") or {}).items()}
        numbers = {
            name: tuple(float(v) for v in getattr(report, name))
            for name in ("ttft_range", "tokens_per_s_range", "quality_range", "scores")
        }
        return VariantReport(**{**asdict(report), "quality": quality, **numbers})


def available_variants(ref: str) -> tuple[str, ...]:
    """The variants a model can have: merged only for a LoRA run; GGUF with llama.cpp."""
    kind = resolve_model(ref).kind
    names = ("fp32", "merged", "bf16", "int8") if kind == "adapter" else ("fp32", "bf16", "int8")
    return names + (gguf_variants.NAMES if gguf_variants.offered(ref) else ())


def default_workdir(ref: str) -> Path:
    """Where a model's variants are saved: data/deploy/<name>-<hash of the ref>."""
    digest = hashlib.sha256(ref.encode()).hexdigest()[:8]
    return data_home() / "deploy" / f"{slug(Path(ref).name or ref, 'model')}-{digest}"


def build_variant(ref: str, name: str, workdir: Path) -> Path:
    """Save a variant folder and return it (fp32 is the source folder itself: no copy)."""
    source = resolve_model(ref)
    if name == "fp32":
        return Path(source.location)
    if gguf_variants.is_gguf(name):
        try:
            return gguf_variants.build(ref, name, workdir)
        except GgufError as err:
            raise DeployError(str(err)) from err
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
    if gguf_variants.is_gguf(name):
        try:
            return gguf_variants.load(folder, f"{ref} [{name}]")  # type: ignore[return-value]
        except GgufError as err:
            raise DeployError(str(err)) from err
    if name == "fp32" and resolve_model(ref).kind == "adapter":
        start = time.perf_counter()
        model, tokenizer, is_seq2seq, _ = load_source(ref)
        return wrap(ref, model, tokenizer, is_seq2seq, time.perf_counter() - start)
    return load_variant(folder, ref=f"{ref} [{name}]")


def shipped_bytes(ref: str, name: str, folder: Path) -> int:
    """Bytes to ship a variant: an unmerged adapter also needs its base model."""
    if gguf_variants.is_gguf(name):
        return Path(folder).stat().st_size  # one self-contained file
    if name == "fp32" and resolve_model(ref).kind == "adapter":
        import json

        base = json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
        base_folder = Path(resolve_model(base).location)
        return folder_size(folder, follow_links=True) + folder_size(base_folder, follow_links=True)
    return folder_size(folder, follow_links=True)  # links followed: a hub snapshot's weights


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
    found = {}
    for rec in store.list_records(project_id, MEASUREMENT):
        reports = [VariantReport.from_dict(r) for r in rec.data.get("reports") or []]
        named = str(rec.data.get("set_name") or "")  # older reports name their set only here
        found[rec.data["ref"]] = [replace(r, set_name=r.set_name or named) for r in reports]
    return found
