"""Export a measured variant as a self-contained folder with a README and serve commands."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from pathlib import Path

from lifecycle.deploy.measure import VariantReport
from lifecycle.deploy.variants import DeployError
from lifecycle.safe_paths import UnsafePathError, check_target, mark, replace_folder, written_by_app
from lifecycle.store import now
from lifecycle.text import gib, md_code

TGI_IMAGE = "ghcr.io/huggingface/text-generation-inference:latest"


class ExportExists(DeployError):
    """The target folder exists: the page asks, then calls again with overwrite=True."""


def serve_commands(folder: Path, variant: str) -> dict[str, str]:
    """Commands that serve an exported folder with existing servers (empty for int8)."""
    folder = Path(folder).resolve()
    if variant == "int8":
        return {}  # a PyTorch CPU format: vLLM and TGI cannot read it
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


def readme(report: VariantReport, source_ref: str, folder: Path) -> str:
    """The README.md of an export: where it came from, its measured figures, how to serve it."""
    quality = f"{report.primary:.3f}" if report.quality_key else "not measured"
    lines = [
        f"# {report.label or report.name}",
        "",
        f"Exported by Lifecycle on {now()} from {md_code(source_ref)}.",
        "",
        "## Measured on the machine that built it",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Size on disk | {gib(report.disk_bytes / 2**30)} |",
        f"| Size in memory (tensors) | {gib(report.memory_bytes / 2**30)} |",
        f"| Load time | {report.load_s:.2f} s |",
        f"| Time to first token (mean) | {report.ttft_s:.3f} s |",
        f"| Decode speed | {report.tokens_per_s:.1f} tokens/s |",
        f"| Quality ({report.quality_key or 'n/a'}, {report.examples} examples) | {quality} |",
        "",
        "Figures are single-request CPU measurements; a GPU server with batching is much faster.",
        "",
        "## Serve it",
        "",
    ]
    commands = serve_commands(folder, report.name)
    for name, command in commands.items():
        lines += [f"{name}:", "", "```bash" if "Python" not in name else "```python"]
        lines += [command, "```", ""]
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
    report: VariantReport, target: Path, source_ref: str, overwrite: bool = False
) -> Path:
    """Copy the variant folder and a README into `target` (staged, then renamed into place)."""
    if report.error or not report.folder:
        raise DeployError(f"The {report.name} variant was not built: measure it first.")
    source, target = Path(report.folder), check_export_target(target)
    if (source / "adapter_config.json").is_file():
        raise DeployError(
            "An unmerged LoRA adapter needs its base model, so it is not self-contained: "
            "export the merged variant instead."
        )
    if not source.is_dir():
        raise DeployError(f"The {report.name} variant folder {source} is gone: measure again.")
    _check_target(target, overwrite)
    try:
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".export-"))
    except OSError as err:
        raise DeployError(f"Cannot write in {target.parent}: {err.strerror or err}.") from err
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        (staging / "README.md").write_text(readme(report, source_ref, target), encoding="utf-8")
        mark(staging, f"export of the {report.name} variant of {source_ref}")
        replace_folder(staging, target)
    except UnsafePathError as err:
        raise DeployError(str(err)) from err
    except OSError as err:
        raise DeployError(f"The export to {target} failed: {err.strerror or err}.") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
