"""Prompt versions and playground run history, saved in the project store."""

from __future__ import annotations

import csv
import difflib
import io
import json
import uuid
from dataclasses import asdict, dataclass

from lifecycle.models.generation import GenerationResult, GenParams
from lifecycle.prompting import PromptSpec
from lifecycle.store import Store, StoreError, clean_name, now
from lifecycle.text import csv_safe
from lifecycle.typed import dataclass_from

VERSION = "prompt_version"  # record kinds
RUN = "playground_run"
RUN_COLUMNS = (
    "created_at",
    "label",
    "model",
    "task",
    "shots",
    "do_sample",
    "temperature",
    "max_new_tokens",
    "seed",
    "prompt_tokens",
    "completion_tokens",
    "latency_s",
    "ttft_s",
    "tokens_per_s",
    "finish_reason",
    "output",
)


@dataclass(frozen=True)
class PromptVersion:
    """A named prompt: template, shots, parameters and model, with its task."""

    id: str
    name: str
    task_id: str
    prompt: PromptSpec
    params: GenParams
    model_ref: str
    created_at: str

    def to_dict(self) -> dict:
        """JSON-ready form (as stored)."""
        return {
            "id": self.id,
            "name": self.name,
            "task_id": self.task_id,
            "prompt": self.prompt.to_dict(),
            "params": asdict(self.params),
            "model_ref": self.model_ref,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict) -> PromptVersion:
        """From a stored record."""
        return cls(
            str(data["id"]),
            str(data["name"]),
            str(data.get("task_id", "")),
            PromptSpec.from_dict(data.get("prompt") or {}),
            dataclass_from(GenParams, data.get("params")),
            str(data.get("model_ref", "")),
            str(data.get("created_at", "")),
        )


def save_version(
    store: Store,
    project_id: str,
    name: str,
    task_id: str,
    prompt: PromptSpec,
    params: GenParams,
    model_ref: str,
) -> PromptVersion:
    """Save a new named version; names are unique within the project."""
    name = clean_name(name)
    if any(v.name.casefold() == name.casefold() for v in list_versions(store, project_id)):
        raise StoreError(f"A version named “{name}” already exists; pick another name.")
    stamp = now(precise=True)
    version = PromptVersion(uuid.uuid4().hex[:12], name, task_id, prompt, params, model_ref, stamp)
    store.put_record(project_id, VERSION, version.to_dict(), key=version.id)
    return version


def list_versions(store: Store, project_id: str) -> list[PromptVersion]:
    """All versions, oldest first."""
    found = [PromptVersion.from_dict(r.data) for r in store.list_records(project_id, VERSION)]
    return sorted(found, key=lambda v: v.created_at)


def delete_version(store: Store, project_id: str, version_id: str) -> None:
    """Remove one version."""
    store.delete_record(project_id, VERSION, version_id)


def _readable(version: PromptVersion) -> list[str]:
    p, params = version.prompt, asdict(version.params)
    lines = [
        f"model: {version.model_ref}",
        f"task: {version.task_id}",
        f"shots: {p.shots}",
        *(f"{k}: {v}" for k, v in params.items()),
        "system:",
        *p.system.splitlines(),
        "instruction:",
        *p.instruction.splitlines(),
        "template:",
        *p.template.splitlines(),
    ]
    return [line + "\n" for line in lines]


def diff_versions(a: PromptVersion, b: PromptVersion) -> str:
    """A unified diff of two versions' settings and texts ('' when identical)."""
    return "".join(difflib.unified_diff(_readable(a), _readable(b), a.name, b.name))


def record_run(
    store: Store,
    project_id: str,
    label: str,
    model_ref: str,
    task_id: str,
    prompt: PromptSpec,
    params: GenParams,
    messages: list[dict],
    result: GenerationResult,
) -> dict:
    """Keep one playground run in the project's history."""
    run = {
        "created_at": now(precise=True),
        "label": label,
        "model": model_ref,
        "task": task_id,
        "shots": prompt.shots,
        **asdict(params),
        "messages": messages,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "latency_s": round(result.latency_s, 3),
        "queue_s": round(result.queue_s, 3),  # waiting for another tab: part of what people wait
        "truncated_tokens": result.truncated_tokens,
        "ttft_s": round(result.ttft_s, 3) if result.ttft_s is not None else None,
        "tokens_per_s": round(result.tokens_per_s, 2),
        "finish_reason": result.finish_reason,
        "output": result.text,
    }
    key = f"{run['created_at']}-{uuid.uuid4().hex[:6]}"  # sorts by time
    store.put_record(project_id, RUN, run, key=key)
    return run


def list_runs(store: Store, project_id: str) -> list[dict]:
    """The run history, newest first."""
    return [r.data for r in reversed(store.list_records(project_id, RUN))]


def runs_csv(runs: list[dict]) -> str:
    """The history as CSV (one row a run, the main columns); no cell runs as a formula."""
    out = io.StringIO()
    writer = csv.DictWriter(out, RUN_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: csv_safe(v) for k, v in run.items()} for run in runs)
    return out.getvalue()


def export_json(versions: list[PromptVersion], runs: list[dict]) -> str:
    """Versions and history in one JSON document."""
    return json.dumps(
        {"versions": [v.to_dict() for v in versions], "runs": runs}, indent=2, ensure_ascii=False
    )
