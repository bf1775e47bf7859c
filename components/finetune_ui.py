"""Fine-tune launcher widgets: the data, the base model, the settings, the pre-launch report."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.finetune_data import TrainingData
from components.project import flash
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.config import ROOT, data_home
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import DataError, DataReport, data_report, task_spec
from lifecycle.finetune.distributed import check_processes, export_command, machine_limit
from lifecycle.finetune.estimate import estimate_run
from lifecycle.finetune.jobs import submit
from lifecycle.finetune.lora import lora_targets
from lifecycle.finetune.runs import create_run, runs_root
from lifecycle.models import EMBEDDED, LoadedModel
from lifecycle.models.sources import EMBEDDED_NAME
from lifecycle.text import md_escape

OTHER = "__other__"


def base_model_ui(project_model: str, completed_runs: list[str]) -> str:
    """The model to start from: the project's (preselected), embedded, a finished run, any id."""
    options = [EMBEDDED] + ([project_model] if project_model not in ("", EMBEDDED) else [])
    options += [f"run:{r}" for r in completed_runs] + [OTHER]
    labels = {EMBEDDED: EMBEDDED_NAME, OTHER: "Another model (local folder or hub id)"}
    if project_model:
        labels[project_model] = f"Project's model: {labels.get(project_model, project_model)}"
    if st.session_state.get(Keys.FT_MODEL) not in options:
        st.session_state[Keys.FT_MODEL] = project_model or EMBEDDED
    pick = st.selectbox(
        "Base model",
        options,
        key=Keys.FT_MODEL,
        format_func=lambda o: labels.get(o, f"Tuned run {o[4:]}" if o.startswith("run:") else o),
    )
    if pick != OTHER:
        return pick
    return st.text_input("Local folder or hub id", key=Keys.FT_MODEL_OTHER).strip()


def _number(label: str, name: str, default, help: str = "", **kw):
    """A number input whose key follows the config field."""
    return st.number_input(label, value=default, key=Keys.FT_SET + name, help=help or None, **kw)


def settings_ui(lm: LoadedModel, base_ref: str, task_id: str) -> FinetuneConfig:
    """Method and hyper-parameters, defaults from FinetuneConfig."""
    d = FinetuneConfig(base_ref=base_ref, task_id=task_id)
    method = st.radio(
        "Method",
        ["lora", "full"],
        horizontal=True,
        key=Keys.FT_SET + "method",
        format_func={"lora": "LoRA (adapters, ~1 % of weights)", "full": "Full fine-tune"}.get,
    )
    c = st.columns(4)
    with c[0]:
        lr = _number(
            "Learning rate",
            "lr_" + method,
            3e-4 if method == "lora" else 5e-5,
            "LoRA tolerates about 10x the full fine-tune rate.",
            format="%.6f",
            step=1e-5,
        )
        epochs = _number("Epochs", "epochs", d.epochs, min_value=0.0, step=0.5)
        max_steps = _number("Max steps (0 = epochs)", "max_steps", d.max_steps, min_value=0)
    with c[1]:
        batch = _number("Batch size", "batch", d.batch_size, min_value=1, step=1)
        accum = _number("Gradient accumulation", "accum", d.grad_accum, min_value=1, step=1)
        max_len = _number("Sequence length (tokens)", "max_len", d.max_len, min_value=0, step=16)
        processes = processes_ui(d.processes)
    with c[2]:
        warmup = _number("Warm-up share", "warmup", d.warmup_ratio, min_value=0.0, step=0.05)
        seed = _number("Seed", "seed", d.seed, min_value=0, step=1)
        val_share = _number("Validation share", "val", d.val_share, min_value=0.0, step=0.05)
    with c[3]:
        every = _number("Evaluate and sample every (steps)", "every", d.eval_every, min_value=1)
        save = _number("Checkpoint every (steps)", "save", d.save_every, min_value=1)
        bf16 = st.checkbox(
            "bf16 autocast",
            key=Keys.FT_SET + "bf16",
            help="About 25 % faster on CPUs with bf16 support; slightly noisier.",
        )
    r, alpha, dropout, targets = d.lora_r, d.lora_alpha, d.lora_dropout, ()
    if method == "lora":
        default = lora_targets(lm.model, d)
        names = sorted({n.rsplit(".", 1)[-1] for n, _ in lm.model.named_modules()} - {""})
        l1, l2, l3, l4 = st.columns([1, 1, 1, 3])
        r = l1.number_input("Rank r", 1, 256, d.lora_r, key=Keys.FT_SET + "r")
        alpha = l2.number_input("Alpha", 1, 512, d.lora_alpha, key=Keys.FT_SET + "alpha")
        dropout = l3.number_input("Dropout", 0.0, 0.9, d.lora_dropout, key=Keys.FT_SET + "drop")
        targets = tuple(
            l4.multiselect(
                "Target modules",
                [n for n in names if n],
                list(default),
                key=Keys.FT_SET + "targets",
            )
        )
    config = FinetuneConfig(
        base_ref=base_ref,
        task_id=task_id,
        method=method,
        lora_r=int(r),
        lora_alpha=int(alpha),
        lora_dropout=float(dropout),
        target_modules=targets,
        learning_rate=float(lr),
        epochs=float(epochs),
        max_steps=int(max_steps),
        batch_size=int(batch),
        grad_accum=int(accum),
        processes=int(processes),
        max_len=int(max_len),
        warmup_ratio=float(warmup),
        seed=int(seed),
        val_share=float(val_share),
        eval_every=int(every),
        save_every=int(save),
        bf16=bf16,
    )
    export_ui(config)
    return config


def processes_ui(default: int) -> int:
    """How many training processes (DDP ranks) this machine runs the job on."""
    limit, what = machine_limit()
    return _number(
        "Processes",
        "processes",
        min(default, limit),
        f"Ranks started by torchrun (gloo on CPU, nccl on GPUs); this machine has {what}. "
        "Each rank trains on its own share of every step: the effective batch grows with them.",
        min_value=1,
        max_value=limit,
        step=1,
    )


def export_ui(config: FinetuneConfig) -> None:
    """The torchrun and accelerate commands that run this job on N processes elsewhere."""
    with st.expander("Run it elsewhere (multi-process)"):
        n = st.number_input(
            "Processes on that machine (one per GPU, or per CPU core)",
            1,
            1024,
            max(2, config.processes),
            key=Keys.FT_EXPORT_PROCESSES,
        )
        st.caption(
            "Launch writes the run folder (settings and data); copy it with the data folder, "
            "replace RUN_ID by the run's id, then run one of these. Each run also shows its own "
            "exact commands under Runs."
        )
        render_commands(runs_root() / "RUN_ID", int(n))


def render_commands(folder: Path, n: int) -> None:
    """Both launch commands for the run in `folder`, ready to copy."""
    for launcher in ("torchrun", "accelerate"):
        st.code(
            export_command(folder, n, launcher, data_home(), ROOT), language="bash", wrap_lines=True
        )
    st.caption(
        "With accelerate keep `--multi_gpu` (it also runs CPU processes): "
        f"`accelerate launch --cpu --num_processes {n}` silently starts a single process."
    )


def report_ui(lm: LoadedModel, config: FinetuneConfig, data: TrainingData) -> DataReport | None:
    """The pre-launch check: rows, drops, split, exact training text, parameters, memory."""
    try:
        config.check()
        check_processes(config.processes)
        report = data_report(
            lm.tokenizer,
            task_spec(config.task_id),
            list(data.examples),
            config.max_len,
            lm.context_window,
            config.val_share,
            config.seed,
        )
        if config.batch_size > len(report.train):
            raise DataError(
                f"The batch size ({config.batch_size}) is larger than the training "
                f"split ({len(report.train)} examples): lower it."
            )
    except DataError as err:
        show_error(err)
        return None
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
    with st.expander("The exact training text of the first example (chat template applied)"):
        st.caption("Prompt: no loss (the model reads it)")
        st.code(f.text[: len(f.text) - len(_answer_text(lm, f))], language=None, wrap_lines=True)
        st.caption("Answer: the loss is on these tokens, including the end-of-turn token")
        st.code(_answer_text(lm, f), language=None, wrap_lines=True)
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
    steps = _steps(config, len(report.train))
    e[2].metric(
        "Optimiser steps",
        steps,
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
        st.error("No layer matches the LoRA target modules: pick others.")
        return None
    return report


def _answer_text(lm: LoadedModel, f) -> str:
    return lm.tokenizer.decode(f.input_ids[f.prompt_tokens :])


def _steps(config: FinetuneConfig, n_train: int) -> int:
    if config.max_steps:
        return config.max_steps
    per_epoch = -(-n_train // config.effective_batch)
    return int(per_epoch * config.epochs + 0.999)


def launch_ui(
    project_id: str, config: FinetuneConfig, data: TrainingData, report: DataReport
) -> None:
    """Create the run and start (or queue) it."""
    if not st.button("Launch fine-tune", type="primary", icon=":material/rocket_launch:"):
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
