"""Regenerate the sample project (knowledge/sample/) from scratch on the embedded model.

Everything goes through the app's own core package in a temporary data folder, as the pages do:
a scope and model record, two prompt versions (zero-shot, 3-shot), their evaluation runs on the
first 12 dialogue summaries of the shipped test split, the zero-shot version's shots curve (0, 1,
2, 3 and 5 examples) on the same 12, a short LoRA job run by the job runner (and the tuned model
evaluated on the same 12), three judged preference pairs, fp32 and int8 measured on 12 examples,
the starter collection built and its retrieval quality measured with the RAG page's defaults,
and every gate proposal the evidence supports accepted as a click on Accept records it. Then the
project is exported in the ordinary export format with the fine-tune run's light files (metrics,
samples, data; no weights) and a provenance note. Small on purpose: most of the time is the 6
LoRA steps and about 110 short generations.
Run: .venv/bin/python -m bench.make_sample
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("LIFECYCLE_HOME", tempfile.mkdtemp(prefix="make-sample-"))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # a busy shared machine: spinning threads thrash

from lifecycle.alignment.preferences import make_pair, save_preference, task_messages
from lifecycle.decision_records import decide, keep_quality, proposals
from lifecycle.deploy.benchmark import measure_variants
from lifecycle.deploy.measure import MeasureConfig, save_measurements
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.runs import Candidate, continue_run, primary_key, start_run
from lifecycle.evaluation.shots import prompt_predictor, shots_curve
from lifecycle.finetune import jobs
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import data_report, task_spec
from lifecycle.finetune.runs import create_run, read_run
from lifecycle.models import EMBEDDED, GenParams, load_model
from lifecycle.rag import EMBEDDED_EMBEDDER, VectorStore, load_embedder, retrieval_quality
from lifecycle.sample import (
    COMMAND,
    EVAL_EXAMPLES,
    LEFT_OPEN,
    SAMPLE_DIR,
    SAMPLE_ID,
    SAMPLE_NAME,
    SET_ID,
    TASK_ID,
    attach_collection,
    provenance,
    write_sample,
)
from lifecycle.scope import Scope, ScopeAnswers
from lifecycle.selection.advisor import AdvisorInput
from lifecycle.selection.memory import Workload
from lifecycle.store import MAIN, Store
from lifecycle.versions import list_versions, save_version

PARAMS = GenParams(max_new_tokens=32)  # a one-sentence summary; keeps the CPU time small
TRAIN_ROWS = 24  # training examples the short LoRA job sees (10 % go to validation)
FINETUNE = FinetuneConfig(
    base_ref=EMBEDDED,
    task_id=TASK_ID,
    max_steps=6,  # a demonstration of the curve and samples, not a useful model
    batch_size=4,
    max_len=320,
    eval_every=3,
    save_every=6,
    keep_checkpoints=1,
    samples=2,
    sample_tokens=32,
)
ADVISOR_FROM_SCOPE = ("params_b", "budget_usd", "time_weeks")  # the page asks the rest
PAIRS = 3  # judged preference pairs (greedy against sampled at temperature 0.9)
CURVE_VERSION = "Zero-shot kit"  # the version whose shots curve the Evaluate page runs


def log(message: str, start: float) -> None:
    print(f"{time.perf_counter() - start:6.0f} s  {message}", flush=True)


def scope_and_model(store: Store) -> None:
    """The scope (summaries of support dialogues, on premises) and the embedded model."""
    answers = ScopeAnswers(
        input_length="medium (200-2k)",
        labelled_examples="100-1k",
        privacy="must stay on premises",
        quality_bar="internal tool",
        timeline_weeks=8,
    )
    store.put_record(SAMPLE_ID, "scope", Scope(TASK_ID, (), answers).to_dict(), key=MAIN)
    model = {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "custom_params": 0,
        "workload": asdict(Workload()),
        "advisor": {k: v for k, v in asdict(AdvisorInput()).items() if k not in ADVISOR_FROM_SCOPE},
    }
    store.put_record(SAMPLE_ID, "model", model, key=MAIN)
    store.put_record(SAMPLE_ID, "evaluate", {"limits": {SET_ID: EVAL_EXAMPLES}}, key=MAIN)


def evaluate(store: Store, candidate: Candidate) -> None:
    """One evaluation run through the Evaluate page's path, every prediction saved."""
    evalset = load_shipped(SET_ID).head(EVAL_EXAMPLES)
    lm = load_model(candidate.model_ref)
    run = start_run(store, SAMPLE_ID, candidate, evalset)
    continue_run(store, SAMPLE_ID, run, evalset, prompt_predictor(lm, candidate))


def prompts(store: Store) -> None:
    """Two prompt versions of the task's kit, each evaluated."""
    spec = task_spec(TASK_ID)
    for name, shots in ((CURVE_VERSION, 0), ("Kit with 3 examples", 3)):
        version = save_version(
            store, SAMPLE_ID, name, TASK_ID, replace(spec, shots=shots), PARAMS, EMBEDDED
        )
        label = f"{name} · {shots}-shot"
        evaluate(
            store,
            Candidate(label, EMBEDDED, version.prompt, PARAMS, source=version.id),
        )


def shots(store: Store) -> None:
    """The shots curve of the zero-shot version, as the Evaluate page's 'Run the shots curve'."""
    version = next(v for v in list_versions(store, SAMPLE_ID) if v.name == CURVE_VERSION)
    base = Candidate(
        f"{version.name} · 0-shot", EMBEDDED, version.prompt, PARAMS, source=version.id
    )
    evalset = load_shipped(SET_ID).head(EVAL_EXAMPLES)
    key = primary_key(evalset.metrics)
    shots_curve(store, SAMPLE_ID, load_model(EMBEDDED), base, evalset, key)


def finetune(store: Store):
    """A short LoRA job launched and awaited like the Fine-tune page's."""
    lm = load_model(EMBEDDED)
    examples = list(load_shipped(SET_ID, "train").examples)[:TRAIN_ROWS]
    c = FINETUNE
    report = data_report(
        lm.tokenizer,
        task_spec(TASK_ID),
        examples,
        c.max_len,
        lm.context_window,
        c.val_share,
        c.seed,
    )
    dataset = {"name": f"Dialogue summaries (first {TRAIN_ROWS})", "set_id": SET_ID}
    run = create_run(store, SAMPLE_ID, c, list(report.train), list(report.validation), dataset)
    run = jobs.submit(store, run)
    while (run := jobs.current_status(store, read_run(run.folder))).status.state in jobs.ACTIVE:
        time.sleep(3)
    if run.status.state != "completed":
        raise SystemExit(f"The LoRA job ended {run.status.state}: {run.status.error}")
    label = "LoRA (sample run) · 0-shot"
    evaluate(store, Candidate(label, run.ref, task_spec(TASK_ID), PARAMS, source=run.ref))
    return run


def preferences(store: Store) -> None:
    """A few blind pairs (greedy against sampled), judged by the ROUGE-L-closer side."""
    from lifecycle.evaluation.metrics import aggregate

    lm = load_model(EMBEDDED)
    sampled = replace(PARAMS, do_sample=True, temperature=0.9, seed=1)
    for i, example in enumerate(load_shipped(SET_ID).examples[:PAIRS]):
        messages = task_messages(TASK_ID, example.input)
        pair = make_pair(lm, None, messages, PARAMS, sampled, seed=i, task=TASK_ID)
        shown = pair.shown
        rouge = [aggregate("rouge", [t], [example.output])["rougeL"] for t in shown]
        pick = "first" if rouge[0] >= rouge[1] else "second"
        reason = f"closer to the reference summary (ROUGE-L {max(rouge):.2f} vs {min(rouge):.2f})"
        save_preference(store, SAMPLE_ID, pair.judge(pick, reason))


def deploy(store: Store) -> None:
    """fp32 and dynamic int8 of the embedded model measured on the evaluated examples."""
    evalset = load_shipped(SET_ID)
    config = MeasureConfig(
        examples=EVAL_EXAMPLES, max_new_tokens=PARAMS.max_new_tokens, load_rounds=1
    )
    reports = measure_variants(EMBEDDED, evalset, ("fp32", "int8"), config)
    save_measurements(store, SAMPLE_ID, EMBEDDED, evalset.name, reports)


def retrieval(store: Store) -> None:
    """The starter collection, built as opening the sample builds it, measured as the RAG page
    measures it (its default questions and k, no model: questions from headings and openings)."""
    coll = attach_collection(VectorStore(), load_embedder(EMBEDDED_EMBEDDER))
    report = retrieval_quality(coll)
    keep_quality(store, coll.info, report)
    print(f"        hit@{report.k} {report.hit_rate:.2f}, MRR {report.mrr:.2f}", flush=True)


def decisions(store: Store) -> None:
    """Accept every gate's proposal that the evidence supports, as a click on Accept does, but
    those LEFT_OPEN for the demo to decide."""
    for gate, proposal in proposals(store, SAMPLE_ID).items():
        if proposal is None or gate in LEFT_OPEN:
            print(f"        {gate}: {'left open' if proposal else 'no proposal'}", flush=True)
            continue
        decide(store, SAMPLE_ID, proposal, proposal.proposed)
        print(f"        {gate}: accepted {proposal.proposed}: {proposal.what}", flush=True)


def main() -> None:
    start = time.perf_counter()
    home = Path(os.environ["LIFECYCLE_HOME"])
    store = Store(home / "lifecycle.sqlite")
    store.create_project(SAMPLE_NAME, project_id=SAMPLE_ID)
    scope_and_model(store)
    for step in (prompts, shots, finetune, preferences, deploy, retrieval, decisions):
        log(f"{step.__name__}...", start)
        result = step(store)
        if step is finetune:
            run = result
    seconds = time.perf_counter() - start
    write_sample(store, run.folder, provenance(seconds))
    log(f"done: {SAMPLE_DIR} ({COMMAND})", start)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
