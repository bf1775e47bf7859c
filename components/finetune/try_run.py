"""Try a tuned run: side by side with its base, one-click evaluation, merge and export."""

from __future__ import annotations

import streamlit as st

from components.evaluation.ui import run_ui
from components.models.load import load_ui
from components.playground.ui import metrics_ui, stream_into
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error, show_untrusted
from lifecycle.data_folder import folder_size
from lifecycle.deploy.gguf_variants import run_choices
from lifecycle.evaluation.datasets import EvalSet, load_shipped, shipped_index
from lifecycle.evaluation.runs import Candidate, EvalRun, list_eval_runs
from lifecycle.finetune.config import ADAPTER_METHODS
from lifecycle.finetune.data import task_spec
from lifecycle.finetune.merge import MergeError, merge_run, merged_folder
from lifecycle.finetune.runs import Run, checkpoint_ref, checkpoints, read_examples, samples
from lifecycle.models import GenParams
from lifecycle.prompting import build_messages
from lifecycle.tasks import load_tasks
from lifecycle.text import md_code, md_escape

EVAL_TOKENS = 64  # new tokens per answer: summaries and answers are short


def candidates(run: Run, ref: str = "") -> tuple[Candidate, Candidate]:
    """The base and the tuned model (or one checkpoint) with the same zero-shot greedy prompt."""
    spec, params = task_spec(run.config.task_id), GenParams(max_new_tokens=EVAL_TOKENS)
    base = Candidate(f"Base {run.config.base_ref} · 0-shot", run.config.base_ref, spec, params)
    ref = ref or run.ref
    name = run.id + ref[len(run.ref) :].replace("/", " ")  # "ft-... checkpoint-40"
    if ref.startswith("llamacpp:"):
        name = f"{run.id} GGUF {ref.rsplit('/', 1)[-1]}"  # "ft-... GGUF Q4_K_M"
    tuned = Candidate(f"Tuned {name} · 0-shot", ref, spec, params, run.ref)
    return base, tuned


def triable(run: Run) -> bool:
    """A run with a final model or at least one checkpoint to load."""
    return run.final_folder.is_dir() or bool(checkpoints(run.folder))


def version_ui(run: Run) -> str:
    """The final model, its GGUF variants or a checkpoint of the run; returns its reference."""
    options = {run.ref: "Final model"} if run.final_folder.is_dir() else {}
    for ref, label in run_choices([run.id]).items():
        options[ref] = "Final model as " + label.split(" · ", 1)[-1]  # GGUF Q4_K_M (llama.cpp)
    for step in sorted(checkpoints(run.folder), reverse=True):
        options[checkpoint_ref(run, step)] = f"checkpoint-{step} (step {step})"
    key = Keys.FT_CHECKPOINT + run.id
    if st.session_state.get(key) not in options:
        st.session_state[key] = next(iter(options))
    return st.selectbox("Version", list(options), format_func=options.get, key=key)


def seconds_per_answer(run: Run) -> float:
    """Seconds one greedy answer of EVAL_TOKENS took this run's model, from its sample timings."""
    rows = samples(run.folder)
    s = run.status
    timed = len([r for r in rows if r["step"] == 0]) if s.evals else len(rows)
    if not timed or not s.sample_seconds or not run.config.sample_tokens:
        return 0.0
    return s.sample_seconds / timed * EVAL_TOKENS / run.config.sample_tokens


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


def try_ui(run: Run, ref: str = "") -> None:
    """Generate with the base and the tuned model (or a checkpoint) on the same input."""
    ref = ref or run.ref
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
        for col, (name, model) in zip(cols, (("base", run.config.base_ref), ("tuned", ref))):
            col.markdown(f"**{name.title()}** · {md_code(model)}")
            lm = load_ui(model)
            if lm is None:
                return
            results[name] = stream_into(col.empty(), lm, messages, params)
        st.session_state[Keys.FT_TRY] = {"run": ref, **results}
        st.rerun()
    last = st.session_state.get(Keys.FT_TRY)
    if last and last.get("run") == ref:
        cols = st.columns(2)
        for col, name in zip(cols, ("base", "tuned")):
            result = last.get(name)
            col.markdown(f"**{name.title()}**")
            if result:
                show_untrusted(result.text, markdown=True, container=col)
                metrics_ui(result, col)


def evaluate_ui(project_id: str, run: Run, ref: str = "") -> None:
    """Evaluate base and tuned on the test split (an earlier identical base run is reused)."""
    pair = candidates(run, ref)
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
    todo = [c for c in pair if _finished(project_id, c, sliced) is None]
    st.caption(
        f"{md_escape(sliced.name)}: {n} examples · metrics {md_escape(', '.join(sliced.metrics))}"
        f" · {time_estimate(run, n, len(todo))}"
    )
    if st.button("Evaluate tuned vs base", icon=":material/leaderboard:", type="primary"):
        for candidate in pair:
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
    done = [_finished(project_id, c, sliced) for c in pair]
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


def time_estimate(run: Run, examples: int, models: int) -> str:
    """'about 21 min (2 models x 20 answers at ~31 s each)', from this run's own timings."""
    if not models:
        return "both already evaluated: shown below"
    per = seconds_per_answer(run)
    answers = f"{models} model{'s' if models > 1 else ''} x {examples} answers"
    if not per:
        return f"{answers}; no timing yet to estimate how long"
    total = per * examples * models
    when = f"{total:.0f} s" if total < 90 else f"{total / 60:.0f} min"
    return f"about {when} ({answers} at ~{per:.0f} s each on this machine)"


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
