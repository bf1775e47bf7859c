"""Before launch: the data report, the run's size, every problem named, and the Launch button."""

from __future__ import annotations

import streamlit as st

from components.finetune.data import TrainingData
from components.project import flash
from components.resources import get_store, training_data_report
from components.state import Keys
from components.untrusted import show_error
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import DataError, DataReport
from lifecycle.finetune.distributed import check_processes
from lifecycle.finetune.estimate import estimate_run
from lifecycle.finetune.jobs import submit
from lifecycle.finetune.runs import create_run
from lifecycle.models import LoadedModel
from lifecycle.text import md_escape


def report_ui(
    lm: LoadedModel, config: FinetuneConfig, data: TrainingData, form_problem: str = ""
) -> tuple[DataReport | None, list[str]]:
    """The pre-launch check: rows, drops, split, exact training text, parameters, memory.

    Returns the report (None when the data cannot be read with these settings) and every
    problem that keeps Launch off. The data report is shown whatever else is wrong.
    """
    problems = [form_problem] if form_problem else []
    try:
        config.check()
        check_processes(config.processes)
    except DataError as err:
        problems.append(str(err))
    try:
        report = training_data_report(
            lm, data, config.task_id, config.max_len, config.val_share, config.seed
        )
    except DataError as err:
        problems.append(str(err))
        report = None
    if report is not None:
        data_metrics(lm, config, report)
        if config.batch_size > len(report.train):
            problems.append(
                f"The batch size ({config.batch_size}) is larger than the training "
                f"split ({len(report.train)} examples): lower it."
            )
    if report is not None and not problems:
        problems += size_metrics(lm, config, len(report.train))
    for problem in problems:
        show_error(problem)
    return report, problems


def data_metrics(lm: LoadedModel, config: FinetuneConfig, report: DataReport) -> None:
    """Rows, what was dropped and why, the split, and the exact text of the first example."""
    m = st.columns(5)
    m[0].metric("Rows", report.rows)
    m[1].metric("Empty / duplicate", f"{len(report.empty)} / {len(report.duplicates)}")
    m[2].metric(f"Over {config.max_len} tokens", len(report.too_long))
    m[3].metric("Train / validation", f"{len(report.train)} / {len(report.validation)}")
    m[4].metric("Longest (tokens)", report.longest)
    dropped = report.empty + report.duplicates + report.too_long
    if dropped:
        st.caption(
            "Dropped rows: "
            + md_escape(", ".join(dropped[:20]))
            + (" ..." if len(dropped) > 20 else "")
        )
    f = report.preview
    answer = lm.tokenizer.decode(f.input_ids[f.prompt_tokens :])
    with st.expander("The exact training text of the first example (chat template applied)"):
        st.caption("Prompt: no loss (the model reads it)")
        st.code(f.text[: len(f.text) - len(answer)], language=None, wrap_lines=True)
        st.caption("Answer: the loss is on these tokens, including the end-of-turn token")
        st.code(answer, language=None, wrap_lines=True)


def size_metrics(lm: LoadedModel, config: FinetuneConfig, n_train: int) -> list[str]:
    """Trainable parameters, memory and steps; the problem when no layer matches LoRA."""
    est = estimate_run(lm.model, config, 2.0 if config.bf16 and lm.device == "cuda" else 4.0)
    e = st.columns(3)
    e[0].metric(
        "Trainable parameters",
        f"{est.trainable:,}",
        f"{est.share:.2%} of {est.total:,}",
        delta_color="off",
    )
    e[1].metric(
        "Memory estimate",
        f"{est.memory_gib:.1f} GiB",
        f"this machine: {est.ram_gib:.0f} GiB RAM",
        delta_color="off",
    )
    e[2].metric(
        "Optimiser steps",
        steps(config, n_train),
        f"effective batch {config.batch_size} x {config.grad_accum} x {config.processes} "
        f"process{'es' if config.processes > 1 else ''} = {config.effective_batch}",
        delta_color="off",
    )
    if est.verdict != "fits":
        st.warning(
            f"This run may not fit this machine's memory ({est.verdict}): lower the batch "
            "size or sequence length, or use LoRA."
        )
    if config.method == "lora" and not est.targets:
        return ["No layer matches the LoRA target modules: pick others."]
    return []


def steps(config: FinetuneConfig, n_train: int) -> int:
    """Optimiser steps the run will take."""
    if config.max_steps:
        return config.max_steps
    per_epoch = -(-n_train // config.effective_batch)
    return int(per_epoch * config.epochs + 0.999)


def launch_ui(
    project_id: str,
    config: FinetuneConfig,
    data: TrainingData,
    report: DataReport | None,
    problems: list[str],
) -> None:
    """Create the run and start (or queue) it; off, with the reason, while anything is wrong."""
    blocked = problems[0] if problems else ("" if report else "The data report failed.")
    if blocked:
        st.caption("Launch is off until what is marked above is fixed.")
    if not st.button(
        "Launch fine-tune",
        type="primary",
        icon=":material/rocket_launch:",
        disabled=bool(blocked),
        help=md_escape(blocked) or None,
    ):
        return
    store = get_store()
    meta = {"name": data.name, "hash": data.hash, "task_id": data.task_id, "set_id": data.set_id}
    try:
        run = create_run(
            store, project_id, config, list(report.train), list(report.validation), meta
        )
        run = submit(store, run)
    except DataError as err:
        show_error(err)
        return
    except OSError as err:  # disk full, read-only data folder
        show_error(
            f"Could not write the run folder ({err.strerror or err}): free space or check "
            "that the data folder is writable (LIFECYCLE_HOME)."
        )
        return
    st.session_state[Keys.FT_RUN] = run.id
    word = "started" if run.status.state == "running" else "queued behind the running job"
    flash(f"Fine-tune {run.id} {word}.")
    st.rerun()
