"""Try a tuned run: side by side with its base, one-click evaluation, merge and export."""

from __future__ import annotations

import streamlit as st

from components.evaluate_ui import run_ui
from components.playground import load_ui, metrics_ui, stream_into
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error, show_untrusted
from lifecycle.data_folder import folder_size
from lifecycle.evaluation.datasets import EvalSet, load_shipped, shipped_index
from lifecycle.evaluation.runs import Candidate, EvalRun, list_eval_runs
from lifecycle.finetune.config import ADAPTER_METHODS
from lifecycle.finetune.data import task_spec
from lifecycle.finetune.merge import MergeError, merge_run, merged_folder
from lifecycle.finetune.runs import Run, read_examples
from lifecycle.models import GenParams
from lifecycle.prompting import build_messages
from lifecycle.tasks import load_tasks
from lifecycle.text import md_code, md_escape

EVAL_TOKENS = 64  # new tokens per answer: summaries and answers are short


def candidates(run: Run) -> tuple[Candidate, Candidate]:
    """The base and the tuned model with the same zero-shot prompt and greedy decoding."""
    spec, params = task_spec(run.config.task_id), GenParams(max_new_tokens=EVAL_TOKENS)
    base = Candidate(f"Base {run.config.base_ref} · 0-shot", run.config.base_ref, spec, params)
    tuned = Candidate(f"Tuned {run.id} · 0-shot", run.ref, spec, params, f"run:{run.id}")
    return base, tuned


def test_set(run: Run) -> EvalSet:
    """The dataset's held-out test split; for uploads, the run's validation split."""
    set_id = run.dataset.get("set_id", "")
    if set_id in {d["id"] for d in shipped_index()}:
        return load_shipped(set_id, "test")
    task = load_tasks()[run.config.task_id]
    examples = tuple(read_examples(run.folder, "validation"))
    from lifecycle.evaluation.metrics import METRICS

    named = [m.name for m in task.metrics if m.name in METRICS]
    return EvalSet(f"{run.id} validation split", task.id, tuple(named[:2] or ["rouge"]), examples)


def try_ui(run: Run) -> None:
    """Generate with the base and the tuned model on the same input."""
    default = next(iter(read_examples(run.folder, "validation")), None)
    text = st.text_area(
        "Input",
        value=default.input if default else "",
        height=150,
        key=f"{Keys.FT_TRY_INPUT}_{run.id}",
    )
    if st.button("Generate with both", icon=":material/compare_arrows:", disabled=not text.strip()):
        messages = build_messages(task_spec(run.config.task_id), {"input": text})
        params = GenParams(max_new_tokens=EVAL_TOKENS)
        results = {}
        cols = st.columns(2)
        for col, (name, ref) in zip(cols, (("base", run.config.base_ref), ("tuned", run.ref))):
            col.markdown(f"**{name.title()}** · {md_code(ref)}")
            lm = load_ui(ref)
            if lm is None:
                return
            results[name] = stream_into(col.empty(), lm, messages, params)
        st.session_state[Keys.FT_TRY] = {"run": run.id, **results}
        st.rerun()
    last = st.session_state.get(Keys.FT_TRY)
    if last and last.get("run") == run.id:
        cols = st.columns(2)
        for col, name in zip(cols, ("base", "tuned")):
            result = last.get(name)
            col.markdown(f"**{name.title()}**")
            if result:
                show_untrusted(result.text, markdown=True, container=col)
                metrics_ui(result, col)


def evaluate_ui(project_id: str, run: Run) -> None:
    """Evaluate base and tuned on the test split (an earlier identical base run is reused)."""
    evalset = test_set(run)
    total = len(evalset.examples)
    if not total:
        st.info("This run kept no validation split and its data has no test split to score on.")
        return
    n = total
    if total > 1:
        n = st.slider(
            "Test examples", 1, total, min(20, total), key=f"{Keys.FT_EVAL_LIMIT}_{run.id}"
        )
    sliced = evalset.head(n) if n < len(evalset.examples) else evalset
    st.caption(
        f"{md_escape(sliced.name)}: {n} examples · metrics {md_escape(', '.join(sliced.metrics))}"
    )
    if st.button("Evaluate tuned vs base", icon=":material/leaderboard:", type="primary"):
        for candidate in candidates(run):
            if _finished(project_id, candidate, sliced) is None:
                if (
                    run_ui(
                        project_id,
                        candidate,
                        sliced,
                        resume=_partial(project_id, candidate, sliced),
                    )
                    is None
                ):
                    return
    done = [_finished(project_id, c, sliced) for c in candidates(run)]
    if all(done):
        base, tuned = done
        cols = st.columns(len(base.scores))
        for col, (key, value) in zip(cols, tuned.scores.items()):
            col.metric(
                md_escape(key), f"{value:.3f}", f"{value - base.scores.get(key, 0):+.3f} vs base"
            )
        st.page_link(
            "app_pages/evaluate.py",
            label="Compare in Evaluate (confidence, examples)",
            icon=":material/leaderboard:",
        )


def _matching(project_id: str, candidate: Candidate, evalset: EvalSet) -> list[EvalRun]:
    same = candidate.to_dict()
    return [
        r
        for r in list_eval_runs(get_store(), project_id)
        if r.set_hash == evalset.hash and r.candidate.to_dict() == same
    ]


def _finished(project_id: str, candidate: Candidate, evalset: EvalSet) -> EvalRun | None:
    return next((r for r in _matching(project_id, candidate, evalset) if r.status == "done"), None)


def _partial(project_id: str, candidate: Candidate, evalset: EvalSet) -> EvalRun | None:
    return next((r for r in _matching(project_id, candidate, evalset) if r.status != "done"), None)


def merge_ui(run: Run) -> None:
    """Merge a LoRA run into its base (a standalone folder any tool can load)."""
    if run.config.method not in ADAPTER_METHODS:
        st.caption(f"A full fine-tune is already a standalone model: {md_code(run.final_folder)}")
        return
    folder = merged_folder(run)
    if st.button("Merge the adapter into the base", icon=":material/merge:"):
        with st.spinner("Merging and saving (safetensors)..."):
            try:
                merge_run(run)
            except MergeError as err:
                show_error(err)
                return
    if folder.is_dir():
        st.success(
            f"Merged model: {md_code(folder)} ({folder_size(folder) / 2**20:,.0f} MiB). Load it "
            "with `AutoModelForCausalLM.from_pretrained(folder)` or type the folder as a "
            "model in the playground."
        )
