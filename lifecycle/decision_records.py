"""Gates read from the store, and decisions kept in it: accepted or overridden with a reason."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict
from typing import TYPE_CHECKING

from lifecycle.decisions import (
    DECISION,
    GATES,
    RAG_QUALITY,
    DecisionError,
    Proposal,
    choice_label,
    deploy_variant,
    prompting_plateau,
    retrieval_gate,
    tuned_vs_prompt,
)
from lifecycle.deploy.measure import MEASUREMENT, VariantReport
from lifecycle.evaluation.runs import list_eval_runs
from lifecycle.overview import current as current  # re-exported: reports read it from here
from lifecycle.overview import decision_records
from lifecycle.store import Record, Store, now

if TYPE_CHECKING:  # the RAG package loads numpy and chromadb: only its types are needed here
    from lifecycle.rag.quality import QualityReport
    from lifecycle.rag.store import CollectionInfo

MAX_REASON = 1000  # characters of a typed reason: a sentence or a short paragraph


def proposals(store: Store, project_id: str, deploy_ref: str = "") -> dict[str, Proposal | None]:
    """Every gate's proposal from the project's records (None where evidence is missing)."""
    runs = list_eval_runs(store, project_id)
    methods = {
        str(r.data.get("id")): str(r.data.get("method", ""))
        for r in store.list_records(project_id, "finetune_run")
    }
    return {
        "adapt": prompting_plateau(runs),
        "adopt": tuned_vs_prompt(runs, methods),
        "deploy": _newest_deploy(store, project_id, deploy_ref),
        "retrieval": _newest_retrieval(store, project_id),
    }


def _newest(records: list[Record]) -> Record | None:
    return max(records, key=lambda r: str(r.data.get("created_at", "")), default=None)


def _newest_deploy(store: Store, project_id: str, ref: str) -> Proposal | None:
    records = store.list_records(project_id, MEASUREMENT)
    record = _newest([r for r in records if not ref or r.data.get("ref") == ref])
    if record is None:
        return None
    reports = [VariantReport.from_dict(r) for r in record.data.get("reports") or []]
    return deploy_variant(str(record.data["ref"]), record.key, reports)


def _newest_retrieval(store: Store, project_id: str) -> Proposal | None:
    record = _newest(store.list_records(project_id, RAG_QUALITY))
    return retrieval_gate(record.data, record.key) if record else None


def save_rag_quality(
    store: Store, project_id: str, collection: str, label: str, k: int, ranks: list, chunks: dict
) -> Record:
    """Keep a retrieval-quality measurement as evidence (one per collection, the latest)."""
    data = {
        "collection": collection,
        "label": label,
        "k": k,
        "ranks": [int(r or 0) for r in ranks],  # 0: the chunk was not in the top k
        "chunks": chunks,
        "created_at": now(),
    }
    key = hashlib.sha256(collection.encode()).hexdigest()[:16]
    return store.put_record(project_id, RAG_QUALITY, data, key=key)


def keep_quality(store: Store, info: CollectionInfo, report: QualityReport) -> Record:
    """Keep a collection's measured retrieval quality as the retrieval gate's evidence."""
    ranks = [row.rank or 0 for row in report.rows]
    return save_rag_quality(
        store, info.project_id, info.name, info.label, report.k, ranks, asdict(info.chunks)
    )


def clean_reason(text: str) -> str:
    """A typed reason: control characters dropped, spaces collapsed, at most MAX_REASON long."""
    text = "".join(ch for ch in str(text) if unicodedata.category(ch)[0] != "C" or ch == "\n")
    return re.sub(r"[ \t]+", " ", text).strip()[:MAX_REASON].strip()


def decide(
    store: Store, project_id: str, proposal: Proposal, chosen: str, reason: str = ""
) -> Record:
    """Record the choice made at a gate: the proposal accepted, or overridden with a reason."""
    if chosen not in (proposal.proposed, *proposal.alternatives):
        raise DecisionError(f"{chosen[:40]!r} is not one of this gate's choices.")
    reason, overridden = clean_reason(reason), chosen != proposal.proposed
    if overridden and not reason:
        raise DecisionError("Say why you override the proposal: the reason is kept with it.")
    data = {
        "gate": proposal.gate,
        "stage": GATES[proposal.gate].stage,
        "what": choice_label(proposal.gate, chosen),
        "proposal": proposal.what,
        "why": proposal.why,
        "rule": proposal.rule,
        "evidence": list(proposal.evidence),
        "alternatives": list(proposal.alternatives),
        "proposed": proposal.proposed,
        "chosen": chosen,
        "overridden": overridden,
        "reason": reason,
        "decided_at": now(precise=True),  # two decisions in one second keep their order
    }
    return store.put_record(project_id, DECISION, data, key=proposal.key)


def list_decisions(store: Store, project_id: str) -> list[dict]:
    """Every recorded decision of a project, oldest first (each with its record key)."""
    return list(decision_records(store, project_id))


def decision_for(store: Store, project_id: str, proposal: Proposal) -> dict | None:
    """The decision already taken on exactly this proposal's evidence, or None."""
    record = store.get_record(project_id, DECISION, proposal.key)
    return {**record.data, "key": record.key} if record else None


def summary_rows(decisions: list[dict] | tuple[dict, ...]) -> list[dict]:
    """The decisions as the JSON export and the reports carry them, overrides flagged."""
    rows = []
    for d in decisions:
        gate = str(d.get("gate", ""))
        proposed = str(d.get("proposed", ""))
        rows.append(
            {
                "gate": gate,
                "question": GATES[gate].question if gate in GATES else "",
                "stage": str(d.get("stage", "")),
                "decision": str(d.get("what", "")),
                "proposed": choice_label(gate, proposed) if gate in GATES else proposed,
                "chosen": str(d.get("chosen", "")),
                "overridden": bool(d.get("overridden")),
                "reason": str(d.get("reason", "")),
                "why": str(d.get("why", "")),
                "rule": str(d.get("rule", "")),
                "evidence": [str(e) for e in d.get("evidence") or []],
                "alternatives": [str(a) for a in d.get("alternatives") or []],
                "decided_at": str(d.get("decided_at", "")),
            }
        )
    return rows
