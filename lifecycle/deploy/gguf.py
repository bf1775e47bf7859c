"""A tuned model as GGUF files for llama.cpp: F16 by llama.cpp's converter, then quantized.

The converter is llama.cpp's own `convert_hf_to_gguf.py` with its `gguf-py`, unpacked by
`make llama` from the llama-cpp-python source distribution (never copied into this repo), and the
quantizer is `llama_cpp.llama_model_quantize`. Both run in child processes: a crash in either
stays out of the app, and the converter's log gives the progress.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from lifecycle.config import data_home

QUANTS = ("F16", "Q8_0", "Q4_K_M")  # exact, about half of F16, about a third (k-quant, mixed)
FTYPES = {"F16": "LLAMA_FTYPE_MOSTLY_F16", "Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0"}
FTYPES["Q4_K_M"] = "LLAMA_FTYPE_MOSTLY_Q4_K_M"
CONVERT_ENV = "LIFECYCLE_LLAMA_CONVERT"  # a folder holding convert_hf_to_gguf.py and gguf-py/
CONVERTER = "convert_hf_to_gguf.py"
CONVERT_TIMEOUT_S = 1800  # a 135M model converts in about 10 s; 7B models take minutes
_TENSOR_LINE = re.compile(r"hf-to-gguf:\S+,\s+torch\.\w+ --> \w+")

OnStep = Callable[[str, float], None]  # (what is happening, fraction done)
_build_lock = threading.Lock()  # two tabs building the same run's files would share .part names


class GgufError(Exception):
    """A GGUF that cannot be built; the message says why and what to do."""


def converter_dir() -> Path:
    """Where `make llama` unpacks llama.cpp's converter (inside the virtual environment)."""
    chosen = os.environ.get(CONVERT_ENV, "").strip()
    return Path(chosen) if chosen else Path(sys.prefix) / "share" / "llama-convert"


def check_converter() -> Path:
    """The converter script, or a GgufError saying how to get it."""
    script = converter_dir() / CONVERTER
    parts = [script, converter_dir() / "gguf-py" / "gguf", converter_dir() / "conversion"]
    if not all(p.exists() for p in parts):
        raise GgufError(
            f"llama.cpp's converter ({CONVERTER}, conversion/, gguf-py/) is not in "
            f"{converter_dir()}: run `make llama` (it installs llama-cpp-python and unpacks the "
            "converter from its source distribution)."
        )
    return script


def gguf_name(quant: str) -> str:
    """The file name of one variant: model-Q4_K_M.gguf."""
    return f"model-{quant}.gguf"


def run_gguf_folder(run_id: str) -> Path:
    """Where a fine-tune run's GGUF files live: beside its trained model."""
    if not run_id or "/" in run_id or run_id in (".", ".."):
        raise GgufError(f"“{run_id}” is not a fine-tune run id.")
    return data_home() / "runs" / run_id / "gguf"


def built(folder: Path) -> dict[str, Path]:
    """The GGUF variants already built in a folder, in QUANTS order."""
    return {
        q: Path(folder) / gguf_name(q) for q in QUANTS if (Path(folder) / gguf_name(q)).is_file()
    }


def run_gguf(spec: str) -> Path:
    """The file `run:<id>/<quant>` names (what `llamacpp:run:<id>/<quant>` loads)."""
    run_id, _, quant = spec.partition("/")
    if quant not in QUANTS:
        raise GgufError(f"“{quant}” is not a GGUF variant; choose one of {', '.join(QUANTS)}.")
    path = run_gguf_folder(run_id) / gguf_name(quant)
    if not path.is_file():
        raise GgufError(
            f"The fine-tune run {run_id} has no {quant} GGUF yet: build it on the Deploy page."
        )
    return path


def tensor_count(folder: Path) -> int:
    """How many tensors the converter will write (the denominator of its progress)."""
    from safetensors import safe_open

    total = 0
    for path in Path(folder).glob("*.safetensors"):
        with safe_open(str(path), "pt") as f:
            total += len(list(f.keys()))
    return max(total, 1)


def convert_f16(hf_folder: Path, out: Path, on_step: OnStep = lambda w, d: None) -> Path:
    """Run llama.cpp's converter on a saved model folder: one F16 GGUF, written atomically."""
    script = check_converter()
    total, done, log = tensor_count(hf_folder), 0, []
    staging = out.with_name(f".{out.name}.part")
    # The converter puts its own gguf-py first on its path unless NO_LOCAL_GGUF is set: keep it
    # unset, the installed `gguf` package may be older than the converter.
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    cmd = [sys.executable, str(script), str(hf_folder), "--outfile", str(staging)]
    cmd += ["--outtype", "f16"]
    try:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
    except OSError as err:
        raise GgufError(f"The converter could not start: {err}") from err
    assert proc.stdout is not None
    for line in proc.stdout:
        log.append(line.rstrip())
        if _TENSOR_LINE.search(line):
            done += 1
            on_step(f"Converting to F16: tensor {done} of about {total}", min(done / total, 1))
    if proc.wait(timeout=CONVERT_TIMEOUT_S) != 0 or not staging.is_file():
        staging.unlink(missing_ok=True)
        raise GgufError("llama.cpp's converter failed:\n" + "\n".join(log[-12:]))
    os.replace(staging, out)
    return out


def quantize(source: Path, out: Path, quant: str) -> Path:
    """`llama_model_quantize` from an F16 GGUF, in a child process (a native crash stays there)."""
    if quant not in FTYPES:
        raise GgufError(f"“{quant}” is not a GGUF variant; choose one of {', '.join(QUANTS)}.")
    staging = out.with_name(f".{out.name}.part")
    cmd = [sys.executable, "-m", "lifecycle.deploy.gguf", str(source), str(staging), quant]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S)
    if done.returncode != 0 or not staging.is_file():
        staging.unlink(missing_ok=True)
        tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
        raise GgufError(f"llama.cpp could not quantize to {quant}:\n" + "\n".join(tail))
    os.replace(staging, out)
    return out


def _quantize_here(source: str, out: str, quant: str) -> int:
    """The child process's work: the ctypes call itself (0 on success)."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FTYPES[quant])
    params.nthread = os.cpu_count() or 1
    return int(llama_cpp.llama_model_quantize(source.encode(), out.encode(), params))


def build_ggufs(
    hf_folder: Path,
    folder: Path,
    quants: tuple[str, ...] = QUANTS,
    on_step: OnStep = lambda w, d: None,
    force: bool = False,
) -> dict[str, Path]:
    """F16 from a saved (merged or full) model folder, then each quantization; reuses built ones."""
    from lifecycle.serving.availability import llama_available, missing_message

    if not llama_available():
        raise GgufError(missing_message())
    check_converter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    f16 = folder / gguf_name("F16")
    with _build_lock:
        if force or not f16.is_file():
            convert_f16(hf_folder, f16, lambda what, done: on_step(what, 0.7 * done))
        paths = {"F16": f16}
        rest = [q for q in quants if q != "F16"]
        for i, quant in enumerate(rest):
            on_step(f"Quantizing to {quant}", 0.7 + 0.3 * i / len(rest))
            target = folder / gguf_name(quant)
            done = target.is_file() and not force
            paths[quant] = target if done else quantize(f16, target, quant)
    on_step("GGUF files ready", 1.0)
    return {q: paths[q] for q in QUANTS if q in paths and (q in quants or q == "F16")}


def merged_copy(ref: str, workdir: Path) -> Path:
    """A LoRA run folded into plain weights in a temporary folder under `workdir` (the caller
    removes it); a full model's own folder otherwise."""
    from lifecycle.deploy.variants import load_source, merge_lora, resolve_model, save_variant

    source = resolve_model(ref)
    if source.kind != "adapter":
        return Path(source.location)
    model, tokenizer, _, _ = load_source(ref)
    scratch = Path(tempfile.mkdtemp(dir=workdir, prefix=".merged-"))
    return save_variant(merge_lora(model), tokenizer, "merged", scratch / "merged", ref)


def build_for(
    ref: str, folder: Path, quants: tuple[str, ...] = QUANTS, on_step: OnStep = lambda w, d: None
) -> dict[str, Path]:
    """GGUF variants of any model ref (a LoRA run is merged first, in a scratch folder)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / gguf_name("F16")).is_file():
        return build_ggufs(Path(), folder, quants, on_step)
    on_step("Preparing the model (a LoRA run is merged into its base)", 0.0)
    hf_folder = merged_copy(ref, folder)
    try:
        return build_ggufs(hf_folder, folder, quants, on_step)
    finally:
        if hf_folder.parent.name.startswith(".merged-"):
            shutil.rmtree(hf_folder.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(_quantize_here(*sys.argv[1:4]))
