"""One click to Q4_K_M, then the test split on it: the issue's "under a minute" figure.

Trains a LoRA run shaped exactly like the sample project's (its own settings: embedded
SmolLM2-135M, r 16, 6 steps on the first dialogue summaries; no sample generations), unless
--run names one; builds its GGUF variants as the build button does (the background job, merged
first, llama.cpp's converter and quantizer); then evaluates its Q4_K_M on the 60 test dialogues
through the app's evaluation (zero-shot task prompt, greedy, <= 64 new tokens, one record saved
per example), the model's load included.
Goal: the evaluation under 60 s. Prints the load average beside the figures.
Run: .venv/bin/python -m bench.gguf_eval [--run <fine-tune run id>] [--examples N] [--threads T]
(data folder: LIFECYCLE_HOME; on a CPU shared with other jobs, --threads 1 avoids llama.cpp's
threads waiting on each other)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.eval_throughput import NEW_TOKENS, timed_run
from lifecycle.config import KNOWLEDGE, data_home
from lifecycle.deploy.gguf_jobs import build_job
from lifecycle.deploy.gguf_variants import picker_ref
from lifecycle.evaluation.batches import eval_width
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.runs import Candidate
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.models import GenParams
from lifecycle.models.sources import convert_embedded
from lifecycle.prompting import PromptSpec
from lifecycle.serving.llamacpp import load_llamacpp
from lifecycle.store import Store
from lifecycle.tasks import load_tasks

SET_ID = "dialogue_summaries"
GOAL_S = 60.0


def load() -> str:
    """The load average now (1, 5, 15 min) on how many cores: the figures depend on it."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def sample_shaped_run(store: Store) -> str:
    """A LoRA run with the sample project's settings and data size, trained in this process."""
    from lifecycle.finetune.runs import create_run
    from lifecycle.finetune.train import train

    [meta] = [json.loads(p.read_text()) for p in (KNOWLEDGE / "sample" / "runs").glob("*/run.json")]
    # Without the live view's sample generations (minutes on a busy CPU): they change no weight.
    config = replace(FinetuneConfig.from_dict(meta["config"]), samples=0)
    rows = list(load_shipped(SET_ID, "train").examples)
    train_n, val_n = meta["dataset"]["train"], meta["dataset"]["validation"]
    dataset = {"name": meta["dataset"]["name"], "set_id": SET_ID}
    project = store.create_project("bench-gguf-eval").id
    run = create_run(
        store, project, config, rows[:train_n], rows[train_n : train_n + val_n], dataset
    )
    start = time.perf_counter()
    state = train(run)
    print(
        f"LoRA run {run.id} ({config.max_steps} steps, r {config.lora_r}): {state} in "
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
    return run.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="", help="a LoRA run id (default: train a sample one)")
    parser.add_argument("--examples", type=int, default=0, help="the first N test dialogues")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (Settings')")
    args = parser.parse_args()
    store = Store(data_home() / "lifecycle.sqlite")
    if not args.run:
        convert_embedded()  # quick when the data folder has it already
    run_id = args.run or sample_shaped_run(store)
    job = build_job(run_id)
    start = time.perf_counter()
    job.start()
    job.wait()
    if job.error:
        raise SystemExit(f"The GGUF build failed: {job.error}")
    print(f"GGUF F16, Q8_0, Q4_K_M built in {time.perf_counter() - start:.0f} s ({load()})")

    evalset = load_shipped(SET_ID, "test")
    evalset = evalset.head(args.examples) if args.examples else evalset
    prompt = PromptSpec.for_task(load_tasks()[evalset.task_id])
    ref = picker_ref(run_id, "Q4_K_M")
    cand = Candidate("Q4_K_M · 0-shot", ref, prompt, GenParams(max_new_tokens=NEW_TOKENS))
    begin = time.perf_counter()
    lm = load_llamacpp(ref[len("llamacpp:") :], args.threads)
    with tempfile.TemporaryDirectory() as home:
        scratch = Store(Path(home) / "db.sqlite")
        speed, run = timed_run(
            scratch, scratch.create_project("bench").id, lm, cand, evalset, eval_width(lm, cand)
        )
    total = time.perf_counter() - begin
    verdict = "met" if total < GOAL_S else "missed"
    print(
        f"Q4_K_M of {run_id} on the {len(evalset.examples)} test dialogues: {total:.1f} s with "
        f"the model's load ({speed:.2f} examples/s), goal < {GOAL_S:.0f} s {verdict}; "
        f"ROUGE-L {run.scores.get('rougeL', 0):.3f}; {load()}"
    )


if __name__ == "__main__":
    main()
