"""Hand-built evidence for the decision gates: scored runs and measurements, no model needed."""

from __future__ import annotations

import random

from lifecycle.decision_records import save_rag_quality
from lifecycle.deploy.measure import VariantReport, save_measurements
from lifecycle.evaluation.runs import Candidate, EvalRun
from lifecycle.models import GenParams
from lifecycle.prompting import PromptSpec
from lifecycle.store import Store


def noisy(mean: float, n: int = 20, spread: float = 0.05, seed: int = 0) -> list[float]:
    """n per-example scores around a mean (the same seed: the same examples' difficulty)."""
    rng = random.Random(seed)
    return [min(1.0, max(0.0, mean + rng.uniform(-spread, spread))) for _ in range(n)]


def run(
    run_id: str,
    scores: list[float],
    label: str = "Summary prompt",
    shots: int = 0,
    source: str = "__playground__",
    model: str = "embedded:smollm2",
    set_hash: str = "dialogues-20",
    stamp: str = "2026-01-01T00:00:00",
    status: str = "done",
) -> EvalRun:
    """A scored evaluation run as the Evaluate page saves it, without generating anything."""
    cand = Candidate(f"{label} · {shots}-shot", model, PromptSpec(shots=shots), GenParams(), source)
    per = {f"e{i}": v for i, v in enumerate(scores)}
    return EvalRun(
        run_id,
        cand,
        "Dialogues (first 20)",
        set_hash,
        "summarization",
        ("rouge",),
        len(scores),
        scores={"rougeL": sum(scores) / len(scores)},
        per_example={"rougeL": per},
        status=status,
        created_at=stamp,
        updated_at=stamp,
    )


def curve(*means: float, shots=(0, 1, 3, 5), **kw) -> list[EvalRun]:
    """One prompt's runs at several shot counts on the same examples (a shots curve)."""
    return [
        run(f"c{k}", noisy(m, seed=1), shots=k, stamp=f"2026-01-01T00:00:0{i}", **kw)
        for i, (k, m) in enumerate(zip(shots, means))
    ]


def variant(name: str, tps: float, scores: list[float], memory: int = 500) -> VariantReport:
    """A measured deployment variant with its per-example scores (paired with fp32's)."""
    mean = sum(scores) / len(scores)
    return VariantReport(
        name,
        tokens_per_s=tps,
        memory_bytes=memory,
        quality={"rougeL": mean},
        quality_key="rougeL",
        scores=tuple(scores),
        examples=len(scores),
    )


def save_evidence(store: Store, project_id: str, tuned: bool = False) -> None:
    """A flat shots curve, fp32 and a faster int8, a retrieval measurement (and a tuned run)."""
    runs = curve(0.30, 0.40, 0.45, 0.452)
    if tuned:
        runs.append(run("t1", noisy(0.6), label="Tuned ft-1", source="run:ft-1", stamp="2026-02"))
    for r in runs:
        store.put_record(project_id, "eval_run", r.to_dict(), key=r.id)
    base = noisy(0.3)
    reports = [variant("fp32", 16.0, base), variant("int8", 32.0, base)]
    save_measurements(store, project_id, "embedded:smollm2", "Dialogues", reports)
    chunks = {"unit": "chars", "size": 800, "overlap": 100}
    save_rag_quality(store, project_id, "coll", "<b>Guides</b>", 3, [1, None, 2] * 4, chunks)
