"""Does ROUGE reward copying? The embedded model on dialogue summaries, zero- vs 3-shot, with
how much of each output is pasted from the dialogue (runs of 4+ words), its compression ratio,
and the same figures for the reference summaries people wrote.

Prints one line per candidate: ROUGE-L (95 % bootstrap CI), mean copied share, compression,
outputs that are mostly copied; then ROUGE-L on the outputs that are not mostly copied.
Run: .venv/bin/python -m bench.copying [examples, default 30] [model ref, default llama.cpp]
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("LIFECYCLE_HOME", tempfile.mkdtemp(prefix="bench-copy-"))
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="bench-hf-"))

from lifecycle.evaluation.copying import COPYING, copying, summarise
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.metrics import score
from lifecycle.evaluation.runs import Candidate, continue_run, start_run
from lifecycle.evaluation.shots import prompt_predictor
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.models import EMBEDDED, GenParams, load_model
from lifecycle.prompting import PromptSpec
from lifecycle.serving.llamacpp import llama_available, load_llamacpp
from lifecycle.store import Store
from lifecycle.tasks import load_tasks


def line(name: str, inputs: list[str], outputs: list[str], refs: list[str]) -> None:
    rouge = score("rouge", outputs, refs)["rougeL"]
    ci = bootstrap_interval(rouge)
    c = summarise(list(zip(inputs, outputs)))
    honest = [r for r, i, o in zip(rouge, inputs, outputs) if copying(i, o).copied < COPYING]
    rest = f"{sum(honest) / len(honest):.3f} on {len(honest)}" if honest else "none left"
    print(
        f"{name:22} ROUGE-L {ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}] · copied {c.copied:.0%} "
        f"· compression {c.compression:.1f}x · mostly copied {c.copies}/{c.n} · ROUGE-L of the "
        f"rest {rest}"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    ref = sys.argv[2] if len(sys.argv) > 2 else ("llamacpp:embedded" if llama_available() else "")
    lm = load_llamacpp() if ref == "llamacpp:embedded" else load_model(ref or EMBEDDED)
    evalset = load_shipped("dialogue_summaries", "test").head(n)
    inputs = [e.input for e in evalset.examples]
    refs = [e.output for e in evalset.examples]
    print(f"{lm.name} · {evalset.name} · greedy, 64 new tokens")
    line("reference summaries", inputs, refs, refs)
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "db.sqlite")
        project = store.create_project("bench")
        base = Candidate(
            "0-shot",
            ref or EMBEDDED,
            PromptSpec.for_task(load_tasks()[evalset.task_id]),
            GenParams(max_new_tokens=64),
        )
        for shots in (0, 3):
            cand = replace(base, label=f"{shots}-shot", prompt=replace(base.prompt, shots=shots))
            run = start_run(store, project.id, cand, evalset)
            run = continue_run(store, project.id, run, evalset, prompt_predictor(lm, cand))
            outputs = [run.predictions[e.id]["prediction"] for e in evalset.examples]
            line(f"{shots}-shot", inputs, outputs, refs)


if __name__ == "__main__":
    main()
