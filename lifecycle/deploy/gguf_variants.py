"""GGUF files as Deploy variants: offered, built, loaded and measured beside the torch ones."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from lifecycle.deploy.gguf import (
    QUANTS,
    GgufError,
    build_for,
    built,
    check_converter,
    run_gguf_folder,
)
from lifecycle.models.sources import RUN_PREFIX, ModelLoadError
from lifecycle.serving.llamacpp import LlamaCppModel, llama_available, load_llamacpp

PREFIX = "gguf-"  # variant names: gguf-F16, gguf-Q8_0, gguf-Q4_K_M
NAMES = tuple(PREFIX + q for q in QUANTS)


def is_gguf(name: str) -> bool:
    """True for the name of a GGUF variant."""
    return name in NAMES


def ready() -> bool:
    """True when llama.cpp and its converter are installed (`make llama`)."""
    if not llama_available():
        return False
    try:
        check_converter()
    except GgufError:
        return False
    return True


def run_id_of(ref: str) -> str:
    """The run id of a fine-tune run's final model (`run:<id>`); '' for any other ref."""
    run_id = ref[len(RUN_PREFIX) :] if ref.startswith(RUN_PREFIX) else ""
    return "" if "/" in run_id else run_id


def offered(ref: str) -> bool:
    """GGUF variants of a fine-tune run's final model, when llama.cpp and its converter are here.

    (Any model converts with build(); the embedded one already ships as a GGUF.)
    """
    return bool(run_id_of(ref)) and ready()


def gguf_folder(ref: str, workdir: Path) -> Path:
    """A run's GGUFs live in its folder (the pickers find them there); others in the workdir."""
    run_id = run_id_of(ref)
    return run_gguf_folder(run_id) if run_id else Path(workdir) / "gguf"


def build(ref: str, name: str, workdir: Path) -> Path:
    """The GGUF file of one variant (F16 first when missing; a LoRA run is merged first)."""
    quant = name[len(PREFIX) :]
    return build_for(ref, gguf_folder(ref, workdir), (quant,))[quant]


@dataclass
class GgufModel(LlamaCppModel):
    """A GGUF variant under measurement: `model.tensor_bytes()` as Deploy reads torch models."""

    @property
    def model(self) -> GgufModel:
        return self

    def tensor_bytes(self) -> int:
        """Bytes of the weights llama.cpp holds (what the file's tensors take in memory)."""
        import llama_cpp

        return int(llama_cpp.llama_model_size(self.llm.model))


def load(path: Path, ref: str) -> GgufModel:
    """Load a built GGUF variant with llama.cpp (timed by load_llamacpp)."""
    try:
        lm = load_llamacpp(str(path))
    except ModelLoadError as err:
        raise GgufError(str(err)) from err
    values = {f.name: getattr(lm, f.name) for f in fields(lm)}
    return GgufModel(**{**values, "ref": ref})


def picker_ref(run_id: str, quant: str) -> str:
    """The ref every model picker offers for one variant: llamacpp:run:<id>/<quant>."""
    return f"llamacpp:{RUN_PREFIX}{run_id}/{quant}"


def run_choices(run_ids: list[str]) -> dict[str, str]:
    """Picker refs and labels of the GGUF files built for these runs (llama.cpp installed)."""
    if not llama_available():
        return {}
    choices = {}
    for run_id in run_ids:
        for quant in built(run_gguf_folder(run_id)):
            choices[picker_ref(run_id, quant)] = f"Tuned run {run_id} · GGUF {quant} (llama.cpp)"
    return choices
