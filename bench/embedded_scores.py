"""Quality of the embedded model on the shipped test sets: zero-shot vs 3-shot, with intervals.

Prints one line per set and shot count (primary metric, 95 % bootstrap interval) and the paired
bootstrap verdict of 3-shot against zero-shot. Takes several minutes on a 2-core CPU.
Run: .venv/bin/python -m bench.embedded_scores [examples per set, default all]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="bench-hf-"))

from lifecycle.evaluation.datasets import load_shipped, shipped_index
from lifecycle.evaluation.runs import Candidate, compare, continue_run, primary_key, start_run
from lifecycle.evaluation.shots import prompt_predictor
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.models import EMBEDDED, GenParams, load_model
from lifecycle.prompting import PromptSpec
from lifecycle.store import Store
from lifecycle.tasks import load_tasks


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else None
    lm = load_model(EMBEDDED)
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "db.sqlite")
        project = store.create_project("bench")
        for meta in shipped_index():
            evalset = load_shipped(meta["id"], "test")
            evalset = evalset.head(limit) if limit else evalset
            key = primary_key(evalset.metrics)
            base = Candidate(
                "0-shot",
                EMBEDDED,
                PromptSpec.for_task(load_tasks()[evalset.task_id]),
                GenParams(max_new_tokens=64),
            )
            runs = []
            for shots in (0, 3):
                cand = replace(
                    base, label=f"{shots}-shot", prompt=replace(base.prompt, shots=shots)
                )
                begin = time.perf_counter()
                run = continue_run(
                    store,
                    project.id,
                    start_run(store, project.id, cand, evalset),
                    evalset,
                    prompt_predictor(lm, cand),
                )
                ci = bootstrap_interval(list(run.per_example[key].values()))
                print(
                    f"{evalset.name}, {shots}-shot, n={run.done}: {key} {ci.mean:.3f} "
                    f"[{ci.low:.3f}, {ci.high:.3f}] "
                    + " ".join(f"{k} {v:.3f}" for k, v in run.scores.items() if k != key)
                    + f" ({time.perf_counter() - begin:.0f} s)",
                    flush=True,
                )
                runs.append(run)
            print(
                "  " + compare(runs[0], runs[1], key).verdict("0-shot", "3-shot", key), flush=True
            )


if __name__ == "__main__":
    main()
