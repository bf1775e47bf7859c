"""Delete a project with everything it made: jobs, run folders, reward models, collections."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterable
from typing import Any

from lifecycle.store import Store

STOP_WAIT_S = 30.0  # a killed worker is gone within a second; this only bounds a stuck kernel


def active_jobs(project_id: str) -> list[Any]:
    """The project's fine-tune and DPO runs that are queued or running (the page asks first)."""
    from lifecycle.finetune.runs import ACTIVE, list_runs

    return [r for r in list_runs(project_id) if r.status.state in ACTIVE]


def _stop_jobs(store: Store, project_id: str) -> None:
    from lifecycle.finetune.jobs import alive, kill, stop
    from lifecycle.finetune.runs import read_run

    for run in active_jobs(project_id):
        if run.status.state == "queued":
            stop(store, run)  # taken off the queue before the dispatcher can start it
        else:
            kill(run)
    deadline = time.monotonic() + STOP_WAIT_S
    for run in active_jobs(project_id):
        while alive(read_run(run.folder).status.pid, run.id) and time.monotonic() < deadline:
            time.sleep(0.1)


def delete_project_everywhere(
    store: Store, project_id: str, vector_stores: Iterable[Any] = ()
) -> list[str]:
    """Stop its jobs, then delete the project, its runs, reward models and collections.

    Returns warnings for what could not be removed (e.g. a Chroma server that is down), so the
    page can say so; the project record is deleted in any case.
    """
    from lifecycle.alignment.reward import reward_root
    from lifecycle.finetune.runs import list_runs
    from lifecycle.rag import RagError
    from lifecycle.uploads import remove_unreferenced

    if not re.fullmatch(r"[0-9a-f]{32}", project_id):
        raise ValueError(f"{project_id!r} is not a project id.")  # it becomes part of paths
    _stop_jobs(store, project_id)
    store.delete_project(project_id)
    remove_unreferenced(store)  # uploaded sets no other project uses
    for run in list_runs(project_id):
        shutil.rmtree(run.folder, ignore_errors=True)
    shutil.rmtree(reward_root(project_id), ignore_errors=True)
    warnings = []
    for vectors in vector_stores:
        try:
            vectors.delete_project(project_id)
        except RagError as err:
            warnings.append(f"Its collections in the {vectors.config.describe()} remain: {err}")
    return warnings
