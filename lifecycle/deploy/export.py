"""Export a measured variant as a self-contained folder with a README and serve commands."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
from pathlib import Path

from lifecycle.deploy.measure import VariantReport
from lifecycle.deploy.variants import DeployError
from lifecycle.safe_paths import UnsafePathError, check_target, mark, replace_folder, written_by_app
from lifecycle.store import now
from lifecycle.text import md_code

TGI_IMAGE = "ghcr.io/huggingface/text-generation-inference:latest"
GGUF_PREFIX = "gguf-"  # GGUF variants export as model.gguf + Modelfile
GGUF_FILE = "model.gguf"


class ExportExists(DeployError):
    """The target folder exists: the page asks, then calls again with overwrite=True."""


def serve_commands(folder: Path, variant: str) -> dict[str, str]:
    """Commands that serve an exported folder with existing servers (empty for int8)."""
    folder = Path(folder).resolve()
    if variant == "int8":
        return {}  # a PyTorch CPU format: vLLM and TGI cannot read it
    if variant.startswith(GGUF_PREFIX):
        return gguf_commands(folder)
    quoted = shlex.quote(str(folder))  # a path with spaces or quotes stays one argument
    mount = shlex.quote(f"{folder}:/data/model")
    return {
        "vLLM (GPU)": f"vllm serve {quoted} --dtype bfloat16 --port 8000",
        "TGI (GPU, Docker)": (
            f"docker run --gpus all --shm-size 1g -p 8080:80 -v {mount} "
            f"{TGI_IMAGE} --model-id /data/model"
        ),
        "Transformers (CPU, Python)": (
            "from transformers import pipeline; "
            f"pipe = pipeline('text-generation', model={str(folder)!r})"
        ),
    }


def gguf_commands(folder: Path) -> dict[str, str]:
    """llama.cpp's server, Ollama and llama-cpp-python on an exported GGUF folder (CPU or GPU)."""
    quoted = shlex.quote(str(folder))
    model = shlex.quote(str(folder / GGUF_FILE))
    name = shlex.quote(folder.name.lower() or "lifecycle-model")
    return {
        "llama.cpp server": f"llama-server -m {model} --host 127.0.0.1 --port 8080",
        "Ollama": f"cd {quoted} && ollama create {name} -f Modelfile && ollama run {name}",
        "llama-cpp-python server": (
            f"python -m llama_cpp.server --model {model} --host 127.0.0.1 --port 8080"
        ),
    }


def modelfile(template: str, eos: str) -> str:
    """An Ollama Modelfile: the GGUF, and its chat template in Ollama's own (Go) syntax.

    Ollama cannot run a Jinja template. ChatML (the template of SmolLM2 and of models tuned from
    it) is written out; for other templates Ollama's own detection from the GGUF's metadata
    is used, as a comment says.
    """
    lines = ["FROM ./" + GGUF_FILE, ""]
    if "<|im_start|>" in template:
        lines += [
            'TEMPLATE """{{- if .System }}<|im_start|>system',
            "{{ .System }}<|im_end|>",
            '{{ end }}{{- range .Messages }}{{- if ne .Role "system" }}<|im_start|>{{ .Role }}',
            "{{ .Content }}<|im_end|>",
            '{{ end }}{{ end }}<|im_start|>assistant\n"""',
            'PARAMETER stop "<|im_start|>"',
            'PARAMETER stop "<|im_end|>"',
        ]
    else:
        lines += ["# The chat template is read from the GGUF's tokenizer.chat_template metadata."]
        if eos:
            lines.append(f"PARAMETER stop {json.dumps(eos)}")
    return "\n".join(lines + ["PARAMETER temperature 0", ""])


def _gguf_template(path: Path) -> tuple[str, str]:
    """(chat template, end token) from a GGUF's metadata (vocabulary only: no weights)."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        eos = llm._model.token_get_text(llm.token_eos())
        return str(llm.metadata.get("tokenizer.chat_template") or ""), eos
    finally:
        llm.close()


def mib(size: int) -> str:
    """'281.3 MiB': variants of a small model differ by tens of MiB, which GiB would hide."""
    return f"{size / 2**20:,.1f} MiB"


def _quality(report: VariantReport) -> str:
    if not report.quality_key:
        return "not measured"
    low_high = report.quality_range
    interval = f" (95 % CI {low_high[0]:.3f}–{low_high[1]:.3f})" if len(low_high) == 2 else ""
    return f"{report.primary:.3f}{interval}"


def _figures(report: VariantReport) -> list[str]:
    """The README table's cells of one variant, in the order of FIGURES."""
    return [
        mib(report.disk_bytes),
        mib(report.memory_bytes),
        f"{report.load_s:.2f} s",
        f"{report.ttft_s:.3f} s",
        f"{report.tokens_per_s:.1f} tokens/s",
        _quality(report),
    ]


FIGURES = (
    "Size on disk",
    "Size in memory (tensors)",
    "Load time (median)",
    "Time to first token (median)",
    "Decode speed (median)",
    "Quality",
)


def readme(
    report: VariantReport, source_ref: str, folder: Path, baseline: VariantReport | None = None
) -> str:
    """An export's README.md: its figures beside fp32's, where it came from, how to serve it."""
    shown = [report] + ([baseline] if baseline and baseline.name != report.name else [])
    head = "| Figure | " + " | ".join(md_code(r.name) for r in shown) + " |"
    rows = [
        f"| {name} | " + " | ".join(cells[i] for cells in map(_figures, shown)) + " |"
        for i, name in enumerate(FIGURES)
    ]
    test_set = md_code(report.set_name) if report.set_name else "a test set not recorded"
    lines = [
        f"# {report.label or report.name}",
        "",
        f"Exported by Lifecycle on {now()} from {md_code(source_ref)}.",
        "",
        "## Measured on the machine that built it",
        "",
        head,
        "|---|" + "---|" * len(shown),
        *rows,
        "",
        f"Quality is {report.quality_key or 'a score'} on the first {report.examples} examples of "
        f"{test_set}. Every variant was loaded and warmed up before timing and measured in "
        "interleaved rounds; times are medians. Figures are single-request CPU measurements; "
        "a GPU server with batching is much faster.",
        "",
        "## Serve it",
        "",
    ]
    commands = serve_commands(folder, report.name)
    for name, command in commands.items():
        lines += [f"{name}:", "", "```bash" if "Python" not in name else "```python"]
        lines += [command, "```", ""]
    if report.name.startswith(GGUF_PREFIX):
        lines += [
            f"`{GGUF_FILE}` holds the weights, the tokenizer and the chat template; the",
            "`Modelfile` makes it an Ollama model.",
            "",
        ]
    if not commands:
        lines += [
            "These are PyTorch dynamic-int8 weights (int8 values with a per-tensor scale in",
            "`int8_dynamic.safetensors`): a CPU format that vLLM and TGI cannot load. Load it",
            "with Lifecycle: `from lifecycle.deploy.variants import load_variant`, then",
            "`load_variant(folder)`.",
            "To serve on a GPU, export the bf16 variant and let the server quantize it, e.g.",
            "`vllm serve <folder> --quantization fp8` or TGI's `--quantize eetq`.",
            "",
        ]
    return "\n".join(lines)


def umask() -> int:
    """This process's umask, read without changing it (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def shareable(folder: Path) -> None:
    """Give an export the modes a new folder gets, so a server run as another user reads it.

    Temp folders are 0700 and the weights arrive 0600 (written through private temp files).
    """
    mask = umask()
    os.chmod(folder, 0o777 & ~mask)
    for path in folder.rglob("*"):
        if not path.is_symlink():
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def check_export_target(target: Path | str) -> Path:
    """The resolved export folder, refused when it is or holds data the app did not export."""
    try:
        path = check_target(target, allowed_inside_data="exports")
    except UnsafePathError as err:
        raise DeployError(str(err)) from err
    if path.exists() and not path.is_dir():
        raise DeployError(f"{path} is a file, not a folder: pick another export folder.")
    if path.is_dir() and any(path.iterdir()) and not written_by_app(path):
        raise DeployError(
            f"{path} already holds files that Lifecycle did not export: pick a new or empty "
            "folder (the app only ever replaces its own exports)."
        )
    return path


def _check_target(target: Path, overwrite: bool) -> None:
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise ExportExists(f"{target} holds an earlier Lifecycle export: replace it?")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DeployError(f"Cannot create {target.parent}: {err.strerror or err}.") from err
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise DeployError(f"{target.parent} is not writable: pick a folder you can write to.")


def export_variant(
    report: VariantReport,
    target: Path,
    source_ref: str,
    overwrite: bool = False,
    baseline: VariantReport | None = None,
) -> Path:
    """Copy the variant folder and a README into `target` (staged, then renamed into place).

    `baseline` (the fp32 measurement) is shown beside the variant's own figures.
    """
    if report.error or not report.folder:
        raise DeployError(f"The {report.name} variant was not built: measure it first.")
    source, target = Path(report.folder), check_export_target(target)
    if report.name.startswith(GGUF_PREFIX) and not source.is_file():
        raise DeployError(f"The {report.name} file {source} is gone: measure again.")
    if (source / "adapter_config.json").is_file():
        raise DeployError(
            "An unmerged LoRA adapter needs its base model, so it is not self-contained: "
            "export the merged variant instead."
        )
    if not (source.is_dir() or source.is_file()):
        raise DeployError(f"The {report.name} variant folder {source} is gone: measure again.")
    _check_target(target, overwrite)
    try:
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".export-"))
    except OSError as err:
        raise DeployError(f"Cannot write in {target.parent}: {err.strerror or err}.") from err
    try:
        if source.is_file():  # a GGUF variant: one file, named as llama.cpp guides expect
            shutil.copy2(source, staging / GGUF_FILE)
            (staging / "Modelfile").write_text(modelfile(*_gguf_template(source)), "utf-8")
        else:
            shutil.copytree(source, staging, dirs_exist_ok=True)
        text = readme(report, source_ref, target, baseline)
        (staging / "README.md").write_text(text, encoding="utf-8")
        mark(staging, f"export of the {report.name} variant of {source_ref}")
        shareable(staging)
        replace_folder(staging, target)
    except UnsafePathError as err:
        raise DeployError(str(err)) from err
    except OSError as err:
        raise DeployError(f"The export to {target} failed: {err.strerror or err}.") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
