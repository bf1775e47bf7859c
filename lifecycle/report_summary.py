"""What the report leads with, derived once for the HTML report and the JSON export."""

from __future__ import annotations

from lifecycle.decision_records import current, summary_rows
from lifecycle.evaluation.runs import primary_key
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.glossary import display_name
from lifecycle.guided import next_step, track
from lifecycle.overview import Overview, stage_states
from lifecycle.plan import end_date
from lifecycle.stages import STAGES
from lifecycle.tasks import load_tasks
from lifecycle.text import usd


def best_run(ov: Overview):
    """The evaluation run with the best primary score, or None before any scored run."""
    done = [r for r in ov.eval_runs if r.scores]
    return max(done, key=lambda r: r.scores.get(primary_key(r.metrics), 0.0), default=None)


def warnings(ov: Overview) -> list[str]:
    """Things a reader should know: a context beyond the model, a plan that does not fit..."""
    out = []
    if ov.model and ov.workload.context > ov.model.context_length:
        out.append(
            f"The planned context ({ov.workload.context:,} tokens) is longer than the model's "
            f"window ({ov.model.context_length:,}): prompts will be cut; consider retrieval."
        )
    if ov.fit and not ov.fit.fits:
        out += list(ov.fit.problems)
    partial = [r for r in ov.eval_runs if r.scores and r.done < r.total]
    if partial:
        out.append(f"{len(partial)} evaluation runs are partial: their scores cover a subset.")
    failed = [f for f in ov.finetunes if f.get("state") == "failed"]
    if failed:
        out.append(f"{len(failed)} fine-tune runs failed.")
    return out


def summary(ov: Overview) -> dict:
    """The derived decisions: task, model, build-or-reuse, best candidate, stages, end, cost."""
    tasks = load_tasks()
    task = tasks[ov.scope.primary_task].name if ov.scope.primary_task in tasks else None
    best = best_run(ov)
    key = primary_key(best.metrics) if best else ""
    states, tracker = stage_states(ov), track(ov)
    step = next_step(ov)
    return {
        "task": task,
        "secondary_tasks": [tasks[t].name for t in ov.scope.task_ids[1:] if t in tasks],
        "model": {"id": ov.model.id, "name": ov.model.name, "params_b": ov.model.params_b}
        if ov.model
        else None,
        "build_or_reuse": {
            "decision": ov.advice.decision,
            "rule": ov.advice.rule,
            "compute_cost_usd": round(ov.advice.route_cost_usd, 2),
        }
        if ov.advice
        else None,
        "best_candidate": {
            "label": best.candidate.label,
            "model_ref": best.candidate.model_ref,
            "metric": display_name(key),
            "score": round(best.scores.get(key, 0.0), 4),
            "set": best.set_name,
            "set_hash": best.set_hash,
        }
        if best
        else None,
        "stages": {
            s.id: {
                "title": s.title,
                "state": tracker[s.id],
                "need": states[s.id].need,
                "progress": states[s.id].progress,
                "days": states[s.id].days,
            }
            for s in STAGES
        },
        "start_date": str(ov.start),
        "end_date": str(end_date(list(ov.plan))),
        "fits_scope": ov.fit.fits if ov.fit else None,
        "next_step": {"page": step.page, "why": step.why},
        "warnings": warnings(ov),
        "decisions": summary_rows(ov.decisions),  # every gate's decision, overrides flagged
        "retrieval": retrieval_rows(ov),
    }


def retrieval_rows(ov: Overview) -> list[dict]:
    """Each collection's measured retrieval: hit@k with its 95 % interval, MRR, the chunking."""
    rows = []
    for q in ov.retrieval:
        ranks, k = [int(r or 0) for r in q.get("ranks") or []], int(q.get("k") or 0)
        if not ranks or k < 1:
            continue
        band = bootstrap_interval([1.0 if 0 < r <= k else 0.0 for r in ranks])
        chunks = q.get("chunks") or {}
        rows.append(
            {
                "collection": str(q.get("label") or q.get("collection") or ""),
                "questions": len(ranks),
                "k": k,
                "hit_rate": round(band.mean, 4),
                "hit_rate_interval": [round(band.low, 4), round(band.high, 4)],
                "mrr": round(sum(1 / r for r in ranks if 0 < r <= k) / len(ranks), 4),
                "chunks": f"{chunks.get('size', '?')} {chunks.get('unit', '')}, "
                f"overlap {chunks.get('overlap', '?')}",
                "measured_at": str(q.get("created_at") or ""),
            }
        )
    return rows


def retrieval_table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """`retrieval_rows` as a table's header and rows, the same in the HTML and Markdown reports."""
    header = ["Collection", "Chunks", "Questions", "hit@k [95 % interval]", "MRR"]
    return header, [
        [
            r["collection"],
            r["chunks"],
            str(r["questions"]),
            f"hit@{r['k']} {r['hit_rate']:.2f} "
            f"[{r['hit_rate_interval'][0]:.2f}, {r['hit_rate_interval'][1]:.2f}]",
            f"{r['mrr']:.2f}",
        ]
        for r in rows
    ]


def executive_rows(s: dict) -> list[tuple[str, str]]:
    """The executive summary's rows from `summary()`, the same in the HTML and Markdown reports."""
    cost = s["build_or_reuse"]
    best = s["best_candidate"]
    decided = [v["title"] for v in s["stages"].values() if v["state"] == "decided"]
    return [
        ("Task", s["task"] or "not chosen yet"),
        ("Chosen model", s["model"]["name"] if s["model"] else "not chosen yet"),
        ("Build or reuse", f"{cost['decision']} ({cost['rule']})" if cost else "not decided yet"),
        ("Compute cost (route)", usd(cost["compute_cost_usd"]) if cost else "not estimated"),
        (
            "Best candidate",
            f"{best['label']}: {best['metric']} {best['score']:.3f} on {best['set']}"
            if best
            else "no evaluation yet",
        ),
        ("Stages decided", ", ".join(decided) or "none yet"),
        ("Decisions at the gates", gate_line(s["decisions"]) or "none recorded yet"),
        ("Start / end", f"{s['start_date']} to {s['end_date']}"),
    ]


def gate_line(decisions: list[dict]) -> str:
    """The latest decision of each gate in one line, overrides flagged."""
    return "; ".join(
        d["decision"] + (" (overridden)" if d["overridden"] else "") for d in current(decisions)
    )
