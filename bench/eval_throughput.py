"""Evaluation throughput: examples/s on the shipped test dialogues, by runtime, in one run.

Every path goes through the app's evaluation (start_run / continue_run, one record saved per
example), greedy, at most 64 new tokens, zero-shot task prompt, on the first N test dialogues:
(a) transformers one example at a time (the path before batching), (b) transformers in batches
(auto size), (c) llama.cpp in-process on the embedded GGUF, (d) an OpenAI-compatible endpoint at
concurrency 1 and 8 against a loopback server whose every answer takes a fixed time (so the
figure is the client's concurrency, not a model's speed). Prints ratios against (a); goals:
(b) >= 2x (a), (c) >= 4x (a), (d) at 8 >= 6x (d) at 1. Also prints how many of (b)'s answers are
(a)'s exactly (greedy answers must not change with the batch size beyond padding noise), and
plain llama_cpp (`Llama.create_completion` on the same prompt tokens, its defaults, nothing
saved or scored) before and after (c), so the cost of our path over llama.cpp shows as a ratio;
(c)'s answers must be plain llama_cpp's exactly.
Run: .venv/bin/python -m bench.eval_throughput [examples, default 16]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="bench-hf-"))

from lifecycle.evaluation.batches import eval_width, prompt_batch_predictor
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.runs import Candidate, EvalRun, continue_run, start_run
from lifecycle.evaluation.shots import prompt_predictor
from lifecycle.models import EMBEDDED, GenParams, load_model
from lifecycle.prompting import PromptSpec, fit_prompt
from lifecycle.serving.llamacpp import LlamaCppModel, gguf_path, llama_available, load_llamacpp
from lifecycle.serving.openai_api import open_endpoint
from lifecycle.settings import Endpoint
from lifecycle.store import Store
from lifecycle.tasks import load_tasks
from tests.echo_server import echo_server

NEW_TOKENS = 64
DELAY_S = 1.0  # each endpoint answer takes this long (the local llama.cpp server: ~1 s for 64)


def timed_run(store: Store, project: str, lm, cand: Candidate, evalset, width: int):
    """One evaluation run through the app's path; (examples/s, the run)."""
    run = start_run(store, project, cand, evalset)
    many = prompt_batch_predictor(lm, cand, width) if width > 1 else None
    begin = time.perf_counter()
    run = continue_run(
        store, project, run, evalset, prompt_predictor(lm, cand), predict_many=many, width=width
    )
    return len(evalset.examples) / (time.perf_counter() - begin), run


def report(rows: list[tuple[str, float]], label: str, speed: float) -> None:
    """Keep and print a figure at once (a long run on a busy machine still shows what it has)."""
    rows.append((label, speed))
    print(f"{label:<52} {speed:6.2f} examples/s  {speed / rows[0][1]:5.2f}x (a)", flush=True)


def plain_llamacpp(lm: LlamaCppModel, cand: Candidate, evalset) -> tuple[float, list[str]]:
    """Plain llama_cpp on the prompt tokens our path sends: (examples/s, answers)."""
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(gguf_path()),
        n_ctx=lm.llm.n_ctx(),
        n_threads=lm.llm.n_threads,
        verbose=False,
    )
    p = cand.params
    prompts = [
        lm.encode(fit_prompt(lm, cand.prompt, {"input": e.input}, p).messages)
        for e in evalset.examples
    ]
    answers = []
    begin = time.perf_counter()
    for ids in prompts:
        out = llm.create_completion(
            ids,
            max_tokens=p.max_new_tokens,
            temperature=0.0,
            top_k=1,
            top_p=1.0,
            repeat_penalty=p.repetition_penalty,
            seed=p.seed,
            stop=list(lm.template_stops),
        )
        answers.append(out["choices"][0]["text"].strip())
    speed = len(prompts) / (time.perf_counter() - begin)
    llm.close()
    return speed, answers


def llama_row(store: Store, project: str, cand: Candidate, evalset, rows: list) -> None:
    """(c), with plain llama_cpp on the same prompts before and after it."""
    llama = load_llamacpp()
    cand = replace(cand, model_ref="llamacpp:embedded")
    timed_run(store, project, llama, cand, evalset.head(1), 1)  # warm-up
    plain, answers = plain_llamacpp(llama, cand, evalset)
    speed, run = timed_run(store, project, llama, cand, evalset, 1)
    plain = (plain + plain_llamacpp(llama, cand, evalset)[0]) / 2
    report(rows, "(c) llama.cpp in-process (Q4_1 GGUF)", speed)
    same = sum(run.predictions[e.id]["prediction"] == a for e, a in zip(evalset.examples, answers))
    print(
        f"    plain llama_cpp on the same prompts {plain:6.2f} examples/s (before and after): "
        f"(c) / plain {speed / plain:.2f}; answers identical {same}/{len(answers)}",
        flush=True,
    )


def same_answers(a: EvalRun, b: EvalRun) -> str:
    same = sum(
        a.predictions[i]["prediction"] == b.predictions[i]["prediction"] for i in a.predictions
    )
    return f"{same}/{len(a.predictions)}"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    evalset = load_shipped("dialogue_summaries", "test").head(n)
    prompt = PromptSpec.for_task(load_tasks()[evalset.task_id])
    cand = Candidate("0-shot", EMBEDDED, prompt, GenParams(max_new_tokens=NEW_TOKENS))
    lm = load_model(EMBEDDED)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "db.sqlite")
        project = store.create_project("bench").id
        timed_run(store, project, lm, cand, evalset.head(2), 2)  # warm-up: first calls are slow
        seq, run_a = timed_run(store, project, lm, cand, evalset, 1)
        report(rows, "(a) transformers, one at a time", seq)
        width = eval_width(lm, cand)
        bat, run_b = timed_run(store, project, lm, cand, evalset, width)
        report(rows, f"(b) transformers, batches of {width}", bat)
        if llama_available():
            llama_row(store, project, cand, evalset, rows)
        with echo_server(DELAY_S) as server:
            ep = open_endpoint(Endpoint("echo", server.url, "m", timeout_s=30))
            cand_d = replace(cand, model_ref="endpoint:echo")
            for k in (1, 8):
                speed = timed_run(store, project, ep, cand_d, evalset, k)[0]
                report(rows, f"(d) endpoint, {DELAY_S:g} s an answer, concurrency {k}", speed)
    load = os.getloadavg()[0]
    print(f"{n} test dialogues, greedy, <= {NEW_TOKENS} new tokens, load average {load:.1f}")
    speeds = dict((label[:3], speed) for label, speed in rows)
    print(f"(b) / (a): {bat / seq:.2f} (goal >= 2)")
    if "(c)" in speeds:
        print(f"(c) / (a): {speeds['(c)'] / seq:.2f} (goal >= 4)")
    print(f"(d) at 8 / (d) at 1: {rows[-1][1] / rows[-2][1]:.2f} (goal >= 6)")
    print(f"(b) answers identical to (a): {same_answers(run_a, run_b)}")
    print(f"ROUGE-L (a) {run_a.scores['rougeL']:.3f}, (b) {run_b.scores['rougeL']:.3f}")


if __name__ == "__main__":
    main()
