"""Optimised variants of a model (fp32, bf16, dynamic int8, merged LoRA), saved and reloaded."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from lifecycle.deploy.int8 import (
    INT8_WEIGHTS,
    MAX_OUTLIER_RATIO,
    Int8Error,
    linear_names,
    load_into,
    packed_bytes,
    quantize,
    to_tensors,
)
from lifecycle.heavy_imports import building, import_heavy
from lifecycle.models.loader import LoadedModel, context_window_of, load_raw
from lifecycle.models.sources import (
    EMBEDDED_NAME,
    ModelLoadError,
    Source,
    convert_embedded,
    embedded_ready,
    resolve,
)

VARIANTS = ("fp32", "bf16", "int8", "merged")
LABELS = {
    "fp32": "fp32 (as trained)",
    "bf16": "bf16 (half the bytes)",
    "int8": "dynamic int8 (Linear layers)",
    "merged": "merged LoRA (fp32)",
    "gguf-F16": "GGUF F16 (llama.cpp)",
    "gguf-Q8_0": "GGUF Q8_0 (llama.cpp, 8-bit)",
    "gguf-Q4_K_M": "GGUF Q4_K_M (llama.cpp, 4-bit)",
}
MARKER = "variant.json"  # says how a saved variant folder must be loaded


class DeployError(Exception):
    """A variant that cannot be built, saved or loaded; the message says why."""


def resolve_model(ref: str) -> Source:
    """The model a reference names, or a DeployError saying why it cannot load."""
    try:
        return resolve(ref)
    except ModelLoadError as err:
        raise DeployError(str(err)) from err


def load_source(ref: str) -> tuple[Any, Any, bool, str]:
    """A ref's model on the CPU in fp32 (int8 is CPU-only): model, tokenizer, seq2seq, kind."""
    try:
        source = resolve(ref)
        if source.kind == "embedded" and not embedded_ready():
            convert_embedded()
        model, tokenizer, is_seq2seq = load_raw(source)
    except ModelLoadError as err:
        raise DeployError(str(err)) from err
    except (OSError, ValueError, KeyError, ImportError, RuntimeError, MemoryError) as err:
        raise DeployError(f"{ref} could not be loaded: {err}") from err
    model.to("cpu", dtype=_torch().float32).eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, is_seq2seq, source.kind


def _torch():
    import torch

    return torch


def wrap(ref: str, model: Any, tokenizer: Any, is_seq2seq: bool, load_s: float) -> LoadedModel:
    """A LoadedModel for `generate`, always on the CPU where every variant can run."""
    return LoadedModel(
        ref=ref,
        name=EMBEDDED_NAME if ref.startswith("embedded:") else ref,
        kind="variant",
        model=model,
        tokenizer=tokenizer,
        is_seq2seq=is_seq2seq,
        context_window=context_window_of(model.config, tokenizer),
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
        device="cpu",
        load_seconds=load_s,
    )


def to_bf16(model: Any) -> Any:
    """Weights in bfloat16: half the bytes of fp32, same layers."""
    return model.to(dtype=_torch().bfloat16)


def merge_lora(model: Any) -> Any:
    """Fold a LoRA adapter into its base weights (W + BA): one plain model, no adapter maths."""
    if not hasattr(model, "merge_and_unload"):
        raise DeployError(
            "This model has no LoRA adapter to merge: pick a LoRA run (an adapter folder)."
        )
    try:
        return model.merge_and_unload()
    except (ValueError, RuntimeError, TypeError) as err:
        raise DeployError(f"The LoRA adapter could not be merged: {err}") from err


def to_int8(model: Any, tokenizer: Any = None, max_ratio: float = MAX_OUTLIER_RATIO) -> Any:
    """Dynamic int8 of the Linear layers (CPU); with a tokenizer, outlier-fed layers stay fp32."""
    if hasattr(model, "peft_config"):
        raise DeployError("Merge the LoRA adapter before quantizing (the merged variant).")
    try:
        return quantize(model, tokenizer, max_ratio)
    except Int8Error as err:
        raise DeployError(str(err)) from err


def memory_bytes(model: Any) -> int:
    """Bytes of every tensor the model holds (tied weights once, packed int8 weights included)."""
    if hasattr(model, "tensor_bytes"):  # a GGUF variant: llama.cpp counts its own tensors
        return int(model.tensor_bytes())
    seen, total = set(), 0
    for t in [*model.parameters(), *model.buffers()]:
        if t.device.type != "meta" and t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total + packed_bytes(model)


def save_variant(model: Any, tokenizer: Any, name: str, folder: Path, source_ref: str) -> Path:
    """Write a variant folder (weights, config, tokenizer, variant.json) atomically."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{name}-"))
    try:
        marker = {"variant": name, "source": source_ref, "quantized": []}
        if name == "int8":
            tensors, marker["quantized"] = to_tensors(model)
            marker["fp32_linears"] = linear_names(model)  # kept fp32 for their outliers
            save_file(tensors, str(staging / INT8_WEIGHTS), metadata={"format": "pt"})
            model.config.save_pretrained(staging)
            if getattr(model, "generation_config", None) is not None:
                model.generation_config.save_pretrained(staging)
        else:
            model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except OSError as err:
        raise DeployError(f"The {name} variant could not be saved in {folder.parent}: {err}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def variant_of(folder: Path) -> dict:
    """The variant.json of a saved variant ({} for a plain model folder)."""
    path = Path(folder) / MARKER
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def load_variant(folder: Path, ref: str = "") -> LoadedModel:
    """Load a saved variant as it was built (bf16 stays bf16, int8 stays int8), timed."""
    import_heavy()
    from transformers import AutoConfig, AutoTokenizer

    folder, start = Path(folder), time.perf_counter()
    marker = variant_of(folder)
    try:
        config = AutoConfig.from_pretrained(folder)
        is_seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        with building():
            if marker.get("variant") == "int8":
                model = _load_int8(folder, config, is_seq2seq, marker.get("quantized") or [])
            else:
                dtype = _torch().bfloat16 if marker.get("variant") == "bf16" else _torch().float32
                model = _auto(is_seq2seq).from_pretrained(folder, dtype=dtype, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise DeployError(f"The variant in {folder} could not be loaded: {err}") from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return wrap(ref or str(folder), model, tokenizer, is_seq2seq, time.perf_counter() - start)


def _auto(is_seq2seq: bool) -> Any:
    import_heavy()
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if is_seq2seq else AutoModelForCausalLM


def _load_int8(folder: Path, config: Any, is_seq2seq: bool, quantized: list[str]) -> Any:
    """Rebuild the architecture without initialising it, then fill it from the int8 file."""
    from transformers import GenerationConfig
    from transformers.initialization import no_init_weights

    with no_init_weights():  # every weight is overwritten: random init would be wasted time
        model = _auto(is_seq2seq).from_config(config, dtype=_torch().float32)
    try:
        load_into(model, folder, quantized)
    except Int8Error as err:
        raise DeployError(str(err)) from err
    if (folder / "generation_config.json").is_file():
        model.generation_config = GenerationConfig.from_pretrained(folder)
    return model
