"""A fine-tune run's GGUF variants built in the background: one click, progress, no waiting.

The work is `build_for` (a LoRA run merged first, llama.cpp's converter to F16, then Q8_0 and
Q4_K_M); the files land in the run's folder, where every model picker finds them.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lifecycle.background import BackgroundJob
from lifecycle.config import data_home
from lifecycle.deploy.gguf import QUANTS, OnStep, build_for, built, run_gguf_folder
from lifecycle.models.sources import RUN_PREFIX

_jobs: dict[tuple[str, str], GgufBuild] = {}  # (data folder, run id) -> its build
_jobs_lock = threading.Lock()


class GgufBuild(BackgroundJob):
    """F16, Q8_0 and Q4_K_M of one run, built in a thread; `paths` once they are there."""

    name = "lifecycle-gguf"

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.folder = run_gguf_folder(run_id)  # fixed now: the thread may outlive a test's home
        self.paths: dict[str, Path] = {}

    def work(self, on_step: OnStep) -> None:
        self.paths = build_for(RUN_PREFIX + self.run_id, self.folder, QUANTS, on_step)

    def missing(self) -> list[str]:
        """The variants not built yet, in QUANTS order."""
        return [q for q in QUANTS if q not in built(self.folder)]

    def again(self) -> bool:
        """After a failure, or when a file went missing since (a run folder cleaned by hand)."""
        return bool(self.error) or bool(self.missing())


def build_job(run_id: str) -> GgufBuild:
    """The one build of a run's GGUF variants in this data folder (two tabs share it)."""
    key = (str(data_home()), run_id)
    with _jobs_lock:
        if key not in _jobs:
            _jobs[key] = GgufBuild(run_id)
        return _jobs[key]
