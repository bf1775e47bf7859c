"""The sample project: an ordinary project export shipped in knowledge/sample/, opened in one click.

`bench/make_sample.py` produces it on the embedded model through this package; the fine-tune
run's light files (settings, status, metrics, samples, data; no weights) travel beside the
export, since an export carries only the run's summary record. Its retrieval measurement was
made on the starter collection (the stage guides and the task table), which is not shipped: the
same guides build the same collection when the sample is opened (attach_collection). Opening it
again reopens the same project (same id): delete it on Home to start from the shipped files again.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.config import KNOWLEDGE
from lifecycle.finetune.runs import RUN, read_run, run_folder
from lifecycle.store import Project, Store, StoreError
from lifecycle.transfer import encode_export, export_project, import_project, write_json_atomic

if TYPE_CHECKING:  # the RAG package loads numpy and chromadb: the Home page imports this module
    from lifecycle.rag.embedder import Embedder
    from lifecycle.rag.ingest import OnStep
    from lifecycle.rag.store import RagCollection, VectorStore

SAMPLE_DIR = KNOWLEDGE / "sample"
SAMPLE_ID = "5a3d1e0000000000000000000000000a"  # fixed: opening the sample again reopens it
SAMPLE_NAME = "Sample: support-dialogue summaries"
EXPORT = "project.json"
PROVENANCE = "provenance.json"
RUNS = "runs"
RUN_FILES = ("run.json", "status.json", "metrics.jsonl", "samples.jsonl")
RUN_DATA = ("train.jsonl", "validation.jsonl")
SHIPPED_DATA = "examples"  # a run's data/ folder, renamed: the repository ignores data/ folders
SET_ID, TASK_ID = "dialogue_summaries", "summarization"
# The demo decides this gate live (Accept or Override on 7 Infrastructure); the others ship decided.
LEFT_OPEN = ("retrieval",)
EVAL_EXAMPLES = 12  # first examples of the shipped test split every evaluation run scores:
# the gates compare at least 10 paired examples (evaluation.stats.MIN_PAIRS)
COMMAND = ".venv/bin/python -m bench.make_sample"
PACKAGES = (
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "evaluate",
    "rouge-score",
    "sentence-transformers",
    "chromadb",
)


def cpu_model() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(seconds: float) -> dict[str, Any]:
    """Where and when the sample was recorded, with what, and how to record it again."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count() or 0,
        "python": sys.version.split()[0],
        "packages": versions,
        "model": "SmolLM2-135M-Instruct (the embedded model)",
        "embedder": "all-MiniLM-L6-v2 (the embedded embedder)",
        "command": COMMAND,
        "seconds": round(seconds),
    }


def write_sample(store: Store, run_folder_path: Path, note: dict[str, Any]) -> None:
    """Replace knowledge/sample/ with the project's export, its run's light files and the note."""
    shutil.rmtree(SAMPLE_DIR, ignore_errors=True)
    target = SAMPLE_DIR / RUNS / run_folder_path.name
    (target / SHIPPED_DATA).mkdir(parents=True)
    for name in RUN_FILES:
        if (run_folder_path / name).is_file():
            shutil.copyfile(run_folder_path / name, target / name)
    for name in RUN_DATA:
        shutil.copyfile(run_folder_path / "data" / name, target / SHIPPED_DATA / name)
    (SAMPLE_DIR / EXPORT).write_bytes(encode_export(export_project(store, SAMPLE_ID)))
    write_json_atomic(SAMPLE_DIR / PROVENANCE, note)


def read_provenance() -> dict[str, Any] | None:
    """The shipped provenance note, or None when the sample is missing."""
    try:
        note = json.loads((SAMPLE_DIR / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None


def provenance_line(note: dict[str, Any] | None) -> str:
    """The sentence the app shows on the sample project (plain text, written by us)."""
    if not note:
        return ""
    day = str(note.get("recorded_at", ""))[:16].replace("T", " ")
    return (
        f"Recorded by this app's own code on {note.get('model', 'the embedded model')}, "
        f"running on {note.get('cpu', 'a CPU')} with {note.get('cores', '?')} cores, at {day} UTC "
        f"with {note.get('command', COMMAND)}; re-run any figure with the button on its page."
    )


def is_sample(project_id: str) -> bool:
    """True for the sample project (it shows its provenance)."""
    return project_id == SAMPLE_ID


def open_sample(store: Store) -> tuple[Project, bool]:
    """The sample project, imported from the shipped files unless it exists (then reopened)."""
    existing = store.get_project(SAMPLE_ID)
    if existing is not None:
        return existing, True
    path = SAMPLE_DIR / EXPORT
    if not path.is_file():
        raise StoreError("The sample project is not shipped with this copy of the app.")
    project = import_project(store, path.read_bytes())
    restore_runs(store, project.id)
    return project, False


def attach_collection(
    vectors: VectorStore, embedder: Embedder, on_step: OnStep = lambda done, total: None
) -> RagCollection:
    """The sample's starter collection, built from the shipped guides as the RAG page builds it
    (vectors from the data folder's cache when setup embedded them); a second call adds nothing."""
    from lifecycle.rag.starter import ensure_starter

    return ensure_starter(vectors, SAMPLE_ID, embedder, on_step)[0]


def has_collection(vectors: VectorStore) -> bool:
    """True when the store already holds the sample's starter collection."""
    from lifecycle.rag.starter import STARTER_LABEL

    return vectors.find(SAMPLE_ID, STARTER_LABEL) is not None


def restore_runs(store: Store, project_id: str) -> list[str]:
    """Copy the shipped runs' light files into the data folder (a folder already there stays)."""
    restored = []
    for rec in store.list_records(project_id, RUN):
        source = SAMPLE_DIR / RUNS / rec.key
        target = run_folder(rec.key)
        if not (source / "run.json").is_file() or target.exists():
            continue
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(SHIPPED_DATA))
        shutil.copytree(source / SHIPPED_DATA, target / "data")
        meta = json.loads((target / "run.json").read_text(encoding="utf-8"))
        write_json_atomic(target / "run.json", {**meta, "project_id": project_id})
        read_run(target)  # a folder the registry cannot read fails here, not on the page
        restored.append(rec.key)
    return restored
