"""Deleting a project stops its jobs and removes everything it made, and nothing else."""

from __future__ import annotations

import subprocess
import sys

from lifecycle.alignment.reward import reward_root
from lifecycle.evaluation.datasets import Example
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.jobs import alive
from lifecycle.finetune.runs import create_run, read_run, write_status
from lifecycle.project_cleanup import active_jobs, delete_project_everywhere
from lifecycle.store import Store

EXAMPLES = [Example(str(i), f"input {i}", f"output {i}") for i in range(4)]


class FakeVectors:
    """Records which projects' collections were removed (a real store is tested in test_rag)."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_project(self, project_id: str) -> int:
        self.deleted.append(project_id)
        return 1


def _run(store: Store, project_id: str):
    cfg = FinetuneConfig(base_ref="tiny", max_steps=2)
    return create_run(store, project_id, cfg, EXAMPLES[:3], EXAMPLES[3:], {"name": "t"})


def test_delete_stops_running_jobs_and_removes_runs_rewards_and_collections(isolated_home):
    store = Store(isolated_home / "lifecycle.sqlite")
    doomed, kept = store.create_project("Doomed"), store.create_project("Kept")
    running, queued, other = _run(store, doomed.id), _run(store, doomed.id), _run(store, kept.id)
    # A stand-in worker: a live process whose command line names the run, as the real one does.
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", str(running.folder)]
    )
    status = running.status
    status.state, status.pid = "running", worker.pid
    write_status(running.folder, status)
    (reward_root(doomed.id) / "r1").mkdir(parents=True)
    (reward_root(kept.id) / "r2").mkdir(parents=True)
    assert len(active_jobs(doomed.id)) == 2

    vectors = FakeVectors()
    assert delete_project_everywhere(store, doomed.id, [vectors]) == []
    worker.wait(timeout=30)
    assert not alive(worker.pid, running.id)
    assert store.get_project(doomed.id) is None and vectors.deleted == [doomed.id]
    assert not running.folder.exists() and not queued.folder.exists()
    assert not reward_root(doomed.id).exists()
    assert (
        read_run(other.folder).status.state == "queued" and (reward_root(kept.id) / "r2").is_dir()
    )
    assert store.get_project(kept.id) is not None


def test_a_store_that_is_down_is_reported_not_fatal(isolated_home):
    from lifecycle.rag import RagError

    class DownVectors(FakeVectors):
        class config:  # noqa: N801  (a stand-in for StoreConfig)
            @staticmethod
            def describe() -> str:
                return "Chroma server at 127.0.0.1:9"

        def delete_project(self, project_id: str) -> int:
            raise RagError("not answering")

    store = Store(isolated_home / "lifecycle.sqlite")
    project = store.create_project("P")
    warnings = delete_project_everywhere(store, project.id, [DownVectors()])
    assert store.get_project(project.id) is None
    assert len(warnings) == 1 and "127.0.0.1:9" in warnings[0]
