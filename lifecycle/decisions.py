"""Decisions from evidence: each gate proposes a choice from the project's own records.

A rule reads runs and measurements the project saved and returns a Proposal with its figures and
the rule applied, or None when the evidence it needs does not exist (it never invents a figure).
The person accepts the proposal or overrides it with a reason; either is kept as a 'decision'
record, keyed by the gate and a fingerprint of the evidence, so new evidence asks again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lifecycle.deploy.measure import MEASUREMENT, VariantReport
from lifecycle.deploy.tradeoff import QUALITY_TOLERANCE
from lifecycle.evaluation.runs import EvalError, EvalRun, compare, primary_key
from lifecycle.evaluation.shots import PLATEAU_GAIN, curve_name
from lifecycle.evaluation.stats import MIN_PAIRS, bootstrap_interval, paired_bootstrap
from lifecycle.gates import GATES
from lifecycle.glossary import display_name
from lifecycle.models.sources import tuned_run_id
from lifecycle.store import StoreError

DECISION = "decision"  # record kinds
RAG_QUALITY = "rag_quality"  # one retrieval-quality measurement per collection
HIT_FLOOR = 0.6  # below this hit rate retrieval misses the answering chunk 2 times in 5


WAITING = {  # what each gate needs before it can propose anything
    "adapt": "Run the shots curve (Evaluate page) so three or more shot counts of one prompt "
    "are scored on the same examples.",
    "adopt": f"Evaluate a tuned run and a prompt on the same set (at least {MIN_PAIRS} examples).",
    "deploy": f"Measure fp32 and another variant on at least {MIN_PAIRS} examples.",
    "retrieval": f"Measure retrieval quality with at least {MIN_PAIRS} questions.",
}


class DecisionError(StoreError):
    """A decision that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class Proposal:
    """What a gate's rule proposes, with the figures it read and the rule it applied."""

    gate: str
    proposed: str  # a choice id
    what: str  # the proposal in one sentence
    why: str  # the evidence, with its numbers
    rule: str  # how the evidence became the proposal
    evidence: tuple[str, ...]  # "kind:key" of every record read
    alternatives: tuple[str, ...]  # the other choice ids

    @property
    def key(self) -> str:
        """The decision record's key: the gate and a fingerprint of this exact evidence."""
        text = "\n".join((self.proposed, self.why, *sorted(self.evidence)))
        return f"{self.gate}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def choice_label(gate: str, choice: str) -> str:
    """A choice id in words ('int8' at the deploy gate: 'Deploy int8')."""
    return GATES[gate].choices.get(choice) or f"Deploy {choice}"


# Rules ----------------------------------------------------------------------------------------


def tuned(run: EvalRun) -> bool:
    """A run of a fine-tuned model (from the fine-tune page, or a tuned run picked as model)."""
    return bool(_run_id(run))


def _scored(runs: list[EvalRun]) -> list[EvalRun]:
    return [r for r in runs if r.status == "done" and primary_key(r.metrics) in r.scores]


def _prompt_runs(runs: list[EvalRun]) -> list[EvalRun]:
    return [r for r in _scored(runs) if not tuned(r) and not r.candidate.source.startswith("rag:")]


def prompting_plateau(runs: list[EvalRun]) -> Proposal | None:
    """Fine-tune when two more examples add less than PLATEAU_GAIN on one prompt's curve."""
    curves: dict[tuple, dict[int, EvalRun]] = {}
    for r in sorted(_prompt_runs(runs), key=lambda r: r.updated_at):  # newest run per count wins
        group: tuple[str, ...] = (r.set_hash, primary_key(r.metrics), r.candidate.model_ref)
        group += (curve_name(r.candidate.label),)
        curves.setdefault(group, {})[r.candidate.prompt.shots] = r
    curves = {g: c for g, c in curves.items() if len(c) >= 3}
    if not curves:
        return None
    points = max(curves.values(), key=lambda c: max(r.updated_at for r in c.values()))
    shots = sorted(points)
    first = points[shots[0]]
    key = primary_key(first.metrics)
    scores = {k: points[k].scores[key] for k in shots}
    gain = scores[shots[-1]] - scores[shots[-2]]
    best = max(shots, key=lambda k: scores[k])
    curve = ", ".join(f"{scores[k]:.3f} at {k}" for k in shots)
    why = (
        f"{curve_name(first.candidate.label)} on {first.set_name}, {display_name(key)} by shots: "
        f"{curve}; {gain:+.3f} from {shots[-2]} to {shots[-1]} examples (best {scores[best]:.3f} "
        f"at {best})."
    )
    plateau = gain < PLATEAU_GAIN
    return Proposal(
        "adapt",
        "fine-tune" if plateau else "keep-prompting",
        "Prompting has plateaued: try fine-tuning (LoRA)."
        if plateau
        else "Examples still help: keep improving the prompt before fine-tuning.",
        why,
        f"Prompting has plateaued when the last two shot counts differ by less than "
        f"{PLATEAU_GAIN} {display_name(key)} (shots curve).",
        tuple(f"eval_run:{points[k].id}" for k in shots),
        _others("adapt", "fine-tune" if plateau else "keep-prompting"),
    )


def tuned_vs_prompt(runs: list[EvalRun], methods: dict[str, str]) -> Proposal | None:
    """Adopt the tuned model when its lead over the best prompt has a 95 % interval above zero."""
    by_set: dict[tuple[str, str], list[EvalRun]] = {}
    for r in _scored(runs):
        if r.per_example.get(primary_key(r.metrics)):  # a paired comparison needs each example
            by_set.setdefault((r.set_hash, primary_key(r.metrics)), []).append(r)
    both = [g for g in by_set.values() if any(map(tuned, g)) and _prompt_runs(g)]
    if not both:
        return None
    group = max(both, key=lambda g: max(r.updated_at for r in g))
    key = primary_key(group[0].metrics)
    best_tuned = max((r for r in group if tuned(r)), key=lambda r: r.scores[key])
    best_prompt = max(_prompt_runs(group), key=lambda r: r.scores[key])
    try:
        diff = compare(best_prompt, best_tuned, key)
    except EvalError:  # no scored example in common
        return None
    if diff.n < MIN_PAIRS:
        return None
    method_id = methods.get(_run_id(best_tuned), "")
    method = display_name(method_id) if method_id else "the tuned model"  # a run not on record
    metric, lead = display_name(key), f"{diff.mean:+.3f}"
    why = (
        f"On {best_prompt.set_name}, {best_tuned.candidate.label} vs the best prompt "
        f"{best_prompt.candidate.label}: {metric} {best_tuned.scores[key]:.3f} vs "
        f"{best_prompt.scores[key]:.3f}, difference {lead} [{diff.low:+.3f}, {diff.high:+.3f}] "
        f"(95 % paired bootstrap, n={diff.n})."
    )
    adopt = diff.significant and diff.mean > 0
    what = (
        f"{method[:1].upper() + method[1:]} beats the best prompt by {lead} {metric} "
        f"[{diff.low:+.3f}, {diff.high:+.3f}]: adopt {method}."
        if adopt
        else f"{method[:1].upper() + method[1:]} does not beat the best prompt on {metric}: keep "
        "the prompt (cheaper)."
    )
    proposed = "adopt-tuned" if adopt else "keep-prompt"
    return Proposal(
        "adopt",
        proposed,
        what,
        why,
        "A tuned model is adopted only when the 95 % paired-bootstrap interval of its lead over "
        f"the best prompt, on the same examples (at least {MIN_PAIRS}), is above zero.",
        (f"eval_run:{best_prompt.id}", f"eval_run:{best_tuned.id}"),
        _others("adopt", proposed),
    )


def _run_id(run: EvalRun) -> str:
    """The fine-tune run a candidate was (its source) or answered with (its model, any runtime:
    a run's GGUF on llama.cpp is that run too)."""
    return tuned_run_id(run.candidate.source) or tuned_run_id(run.candidate.model_ref)


def deploy_variant(ref: str, key: str, reports: list[VariantReport]) -> Proposal | None:
    """Deploy the fastest variant whose quality stays within fp32's paired interval."""
    good = {r.name: r for r in reports if not r.error and r.tokens_per_s > 0}
    base = good.get("fp32")
    paired = [
        r
        for r in good.values()
        if base and r is not base and len(r.scores) == len(base.scores) >= MIN_PAIRS
    ]
    if not base or not paired:
        return None
    lines, kept = [], []
    for r in paired:
        diff = paired_bootstrap(list(base.scores), list(r.scores))
        speed = r.tokens_per_s / base.tokens_per_s
        # kept: no significant loss, or a loss whose whole interval stays within the tolerance
        within = not (diff.significant and diff.mean < 0) or diff.low >= -QUALITY_TOLERANCE
        lines.append(
            f"{r.name}: {display_name(r.quality_key)} {diff.mean:+.3f} "
            f"[{diff.low:+.3f}, {diff.high:+.3f}] vs fp32 (n={diff.n}), {speed:.2g}x the speed "
            f"({r.tokens_per_s:.1f} vs {base.tokens_per_s:.1f} tokens/s)"
        )
        if within and speed > 1:
            kept.append((speed, r))
    pick = max(kept, key=lambda s: s[0])[1] if kept else base
    if pick is base:
        what = "No variant is faster with quality kept: deploy fp32."
    else:
        speed = pick.tokens_per_s / base.tokens_per_s
        what = (
            f"{pick.name} keeps {display_name(pick.quality_key)} within the interval at "
            f"{speed:.2g}x the speed: deploy {pick.name}."
        )
    return Proposal(
        "deploy",
        pick.name,
        what,
        f"Measured for {ref}: " + "; ".join(lines) + ".",
        "Deploy the fastest variant whose quality difference from fp32 (95 % paired bootstrap "
        f"on the same examples) includes zero or stays above -{QUALITY_TOLERANCE}; fp32 when "
        "none is faster.",
        (f"{MEASUREMENT}:{key}",),
        tuple(n for n in good if n != pick.name),
    )


def retrieval_gate(quality: dict, key: str) -> Proposal | None:
    """Revisit chunking when hit@k is under HIT_FLOOR on enough questions."""
    ranks = [int(r) for r in quality.get("ranks") or []]
    k = int(quality.get("k") or 0)
    if len(ranks) < MIN_PAIRS or k < 1:
        return None
    hits = [1.0 if 0 < r <= k else 0.0 for r in ranks]
    band = bootstrap_interval(hits)
    chunks = quality.get("chunks") or {}
    cut = f"chunks of {chunks.get('size')} {chunks.get('unit')}, overlap {chunks.get('overlap')}"
    why = (
        f"On {quality.get('label') or quality.get('collection')} ({cut}), hit@{k} is "
        f"{band.mean:.2f} [{band.low:.2f}, {band.high:.2f}] on {len(ranks)} questions made from "
        "its own chunks."
    )
    low = band.mean < HIT_FLOOR
    proposed = "revisit-chunking" if low else "keep-retrieval"
    return Proposal(
        "retrieval",
        proposed,
        f"Retrieval hit@{k} is {band.mean:.2f}: revisit chunking before blaming the model."
        if low
        else f"Retrieval hit@{k} is {band.mean:.2f}: keep this set-up and judge the answers.",
        why,
        f"Below a hit rate of {HIT_FLOOR} the answering chunk is missed too often for the model "
        "to be judged: fix retrieval first.",
        (f"{RAG_QUALITY}:{key}",),
        _others("retrieval", proposed),
    )


def _others(gate: str, proposed: str) -> tuple[str, ...]:
    return tuple(c for c in GATES[gate].choices if c != proposed)
