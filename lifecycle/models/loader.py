"""Load a model and its tokenizer (causal or seq2seq, base or LoRA run) ready to generate."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from lifecycle.heavy_imports import building, import_heavy
from lifecycle.models.sources import (
    EMBEDDED,
    EMBEDDED_NAME,
    HUB_HELP,
    ModelLoadError,
    OnStep,
    Source,
    convert_embedded,
    embedded_ready,
    resolve,
)
from lifecycle.models.transformers_model import LoadedModel

FALLBACK_WINDOW = 512  # when neither config nor tokenizer states a context length


def pick_device() -> tuple[str, Any]:
    """CUDA with bf16 where a GPU exists (or LIFECYCLE_DEVICE says), else CPU in fp32."""
    import torch

    wanted = os.environ.get("LIFECYCLE_DEVICE", "").strip().lower()
    if wanted == "cpu" or not torch.cuda.is_available():
        return "cpu", torch.float32
    return "cuda", torch.bfloat16


def load_model(ref: str, on_step: OnStep = lambda what, done: None) -> LoadedModel:
    """Resolve `ref`, convert the embedded model if needed, and load it for generation."""
    source = resolve(ref)
    if source.kind == "embedded" and not embedded_ready():
        convert_embedded(on_step)
    start = time.perf_counter()
    on_step("Loading the model", 0.9)
    try:
        model, tokenizer, is_seq2seq = load_raw(source)
    except ModelLoadError:
        raise
    except OSError as err:
        raise ModelLoadError(_os_error_message(source, err)) from err
    except (MemoryError, RuntimeError) as err:
        if "memory" in str(err).lower() or isinstance(err, MemoryError):
            raise ModelLoadError(f"Not enough memory to load {ref}: {err}") from err
        raise ModelLoadError(f"{ref} could not be loaded: {err}") from err
    except (ValueError, KeyError, ImportError) as err:
        raise ModelLoadError(f"{ref} could not be loaded: {err}") from err
    device, dtype = pick_device()
    model.to(device=device, dtype=dtype).eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    on_step("Ready", 1.0)
    return LoadedModel(
        ref=ref,
        name=EMBEDDED_NAME if ref == EMBEDDED else ref,
        kind=source.kind,
        model=model,
        tokenizer=tokenizer,
        is_seq2seq=is_seq2seq,
        context_window=context_window_of(model.config, tokenizer),
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
        device=device,
        load_seconds=time.perf_counter() - start,
    )


def load_raw(source: Source) -> tuple[Any, Any, bool]:
    """Model, tokenizer and seq2seq flag of a source, as saved (no device or dtype change)."""
    import_heavy()
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
    )

    if source.kind == "adapter":
        return _load_adapter(Path(source.location))
    config = AutoConfig.from_pretrained(source.location)
    is_seq2seq = bool(getattr(config, "is_encoder_decoder", False))
    auto = AutoModelForSeq2SeqLM if is_seq2seq else AutoModelForCausalLM
    # use_safetensors=True: never unpickle weights (a pickle can run arbitrary code).
    with building():
        model = auto.from_pretrained(source.location, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(source.location)
    return model, tokenizer, is_seq2seq


def _load_adapter(folder: Path) -> tuple[Any, Any, bool]:
    """A LoRA run: load its base model, then the adapter on top."""
    import_heavy()
    from peft import PeftModel
    from transformers import AutoTokenizer

    base_ref = json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
    base, tokenizer, is_seq2seq = load_raw(resolve(base_ref))
    if hasattr(base, "merge_and_unload"):
        base = base.merge_and_unload()  # a run tuned on top of another tuned run
    with building():
        model = PeftModel.from_pretrained(base, folder)
    if (folder / "tokenizer_config.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(folder)
    return model, tokenizer, is_seq2seq


def context_window_of(config: Any, tokenizer: Any) -> int:
    """The context length from the config (or the tokenizer), with a safe fallback."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", 0)
    return limit if isinstance(limit, int) and 0 < limit < 10**7 else FALLBACK_WINDOW


def _os_error_message(source: Source, err: OSError) -> str:
    text = str(err)
    if "safetensors" in text or ".bin" in text:
        return f"{source.ref} has no safetensors weights; pickle checkpoints are refused."
    if source.kind == "hub":
        return f"{source.ref} could not be fetched: {text.splitlines()[0]} {HUB_HELP}"
    return f"{source.ref} could not be loaded: {text.splitlines()[0]}"
