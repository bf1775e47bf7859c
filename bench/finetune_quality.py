"""The fine-tune result: default LoRA on the embedded model vs its zero- and few-shot prompts.

Follows the page's path: the pre-launch report (sequence length 320, 10 % validation, seed 0),
a background job with the default settings (LoRA r 16, alpha 32, q/k/v/o, lr 3e-4, batch 8,
3 epochs), then evaluation runs on the held-out test split of the dialogue summaries: base
zero-shot, base 3-shot and the tuned model zero-shot, greedy, 64 new tokens. Prints the training
time, ROUGE-L with 95 % intervals and the paired-bootstrap differences. About 20 minutes here.
Run: .venv/bin/python -m bench.finetune_quality [test examples, default all 60]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("LIFECYCLE_HOME", tempfile.mkdtemp(prefix="bench-ftq-"))

from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.runs import Candidate, compare, continue_run, start_run
from lifecycle.evaluation.shots import prompt_predictor
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.finetune import jobs
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import data_report, task_spec
from lifecycle.finetune.runs import create_run, read_run
from lifecycle.models import EMBEDDED, GenParams, load_model
from lifecycle.store import Store

KEY = "rougeL"


def train(store: Store, project: str, config: FinetuneConfig):
    """Launch the job like the page does and wait for it, printing progress."""
    lm = load_model(EMBEDDED)
    examples = list(load_shipped("dialogue_summaries", "train").examples)
    report = data_report(
        lm.tokenizer,
        task_spec(config.task_id),
        examples,
        config.max_len,
        lm.context_window,
        config.val_share,
        config.seed,
    )
    print(
        f"train {len(report.train)} / validation {len(report.validation)}, "
        f"dropped {len(report.too_long)} over {config.max_len} tokens"
    )
    run = create_run(
        store,
        project,
        config,
        list(report.train),
        list(report.validation),
        {"name": "Dialogue summaries", "set_id": "dialogue_summaries"},
    )
    run = jobs.submit(store, run)
    start = time.perf_counter()
    while (run := jobs.current_status(store, read_run(run.folder))).status.state in jobs.ACTIVE:
        s = run.status
        print(
            f"\r{time.perf_counter() - start:5.0f} s  step {s.step}/{s.total_steps}  "
            f"loss {s.train_loss or 0:.3f}  val {s.eval_loss or 0:.3f}",
            end="",
            flush=True,
        )
        time.sleep(5)
    print(
        f"\n{run.status.state} in {time.perf_counter() - start:.0f} s wall "
        f"({run.status.train_seconds:.0f} s training, {run.status.sample_seconds:.0f} s samples)"
    )
    if run.status.state != "completed":
        raise SystemExit(run.status.error)
    return run


def evaluate(store: Store, project: str, candidate: Candidate, evalset):
    lm = load_model(candidate.model_ref)
    begin = time.perf_counter()
    run = continue_run(
        store,
        project,
        start_run(store, project, candidate, evalset),
        evalset,
        prompt_predictor(lm, candidate),
    )
    ci = bootstrap_interval(list(run.per_example[KEY].values()))
    print(
        f"{candidate.label:28} ROUGE-L {ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}]  "
        f"({time.perf_counter() - begin:.0f} s)"
    )
    return run


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else None
    store = Store(Path(os.environ["LIFECYCLE_HOME"]) / "lifecycle.sqlite")
    project = store.create_project("bench").id
    config = FinetuneConfig(base_ref=EMBEDDED, task_id="summarization")
    print("settings:", {k: v for k, v in config.to_dict().items() if k != "extra"})
    tuned = train(store, project, config)
    evalset = load_shipped("dialogue_summaries", "test")
    evalset = evalset.head(limit) if limit else evalset
    params = GenParams(max_new_tokens=64)
    base = Candidate("base 0-shot", EMBEDDED, task_spec("summarization"), params)
    runs = [
        evaluate(store, project, base, evalset),
        evaluate(
            store,
            project,
            replace(base, label="base 3-shot", prompt=replace(base.prompt, shots=3)),
            evalset,
        ),
        evaluate(store, project, replace(base, label="LoRA 0-shot", model_ref=tuned.ref), evalset),
    ]
    for other in runs[:2]:
        d = compare(other, runs[2], KEY)
        print(
            f"LoRA - {other.candidate.label}: {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}] "
            f"n={d.n} {'significant' if d.significant else 'not significant'}"
        )


if __name__ == "__main__":
    main()
