"""Fine-tune launcher widgets: the base model, the training settings (method, hyper-parameters,
LoRA, processes) and the commands that run the job elsewhere."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.models.pick import pick_model
from components.state import Keys
from lifecycle.config import ROOT, data_home
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.distributed import export_command, machine_limit
from lifecycle.finetune.lora import lora_targets
from lifecycle.finetune.runs import runs_root
from lifecycle.models import LoadedModel
from lifecycle.text import md_escape


def base_model_ui(project_id: str, project_model: str) -> str:
    """The model to start from: the project's (preselected), embedded, a finished run, any id."""
    return pick_model("Base model", Keys.FT_MODEL, project_id, preferred=project_model)


def _number(label: str, name: str, default, help: str = "", **kw):
    """A number input whose key follows the config field.

    No bounds: the browser refuses a value outside them and keeps sending the last valid one,
    so a typed 0 would look accepted while another value launched. Every value reaches the
    config instead, and its check names what is wrong (Launch stays off until it is fixed).
    """
    return st.number_input(label, value=default, key=Keys.FT_SET + name, help=help or None, **kw)


def training_settings_ui(
    lm: LoadedModel, base_ref: str, task_id: str
) -> tuple[FinetuneConfig, str]:
    """Method and hyper-parameters (defaults from FinetuneConfig), and what the form lacks."""
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
        epochs = _number("Epochs", "epochs", d.epochs, step=0.5)
        max_steps = _number("Max steps (0 = epochs)", "max_steps", d.max_steps)
        processes = processes_ui(d.processes)
    with c[1]:
        batch = _number("Batch size", "batch", d.batch_size, step=1)
        accum = _number("Gradient accumulation", "accum", d.grad_accum, step=1)
        max_len = _number("Sequence length (tokens)", "max_len", d.max_len, step=16)
        bf16 = st.checkbox(
            "bf16 autocast",
            key=Keys.FT_SET + "bf16",
            help="About 25 % faster on CPUs with bf16 support; slightly noisier.",
        )
    with c[2]:
        warmup = _number("Warm-up share", "warmup", d.warmup_ratio, step=0.05)
        seed = _number("Seed", "seed", d.seed, step=1)
        val_share = _number("Validation share", "val", d.val_share, step=0.05)
    with c[3]:
        every = _number("Evaluate and sample every (steps)", "every", d.eval_every)
        save = _number("Checkpoint every (steps)", "save", d.save_every)
        keep = _number(
            "Checkpoints kept (0 = all)",
            "keep",
            d.keep_checkpoints,
            "Each can be tried, evaluated or resumed from; a full fine-tune's checkpoint "
            "takes about three times the model's size on disk.",
        )
    r, alpha, dropout, targets, problem = d.lora_r, d.lora_alpha, d.lora_dropout, (), ""
    if method == "lora":
        r, alpha, dropout, targets, problem = lora_ui(lm, d)
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
        keep_checkpoints=int(keep),
        bf16=bf16,
    )
    export_ui(config)
    return config, problem


def lora_ui(lm: LoadedModel, d: FinetuneConfig) -> tuple[int, int, float, tuple[str, ...], str]:
    """Rank, alpha, dropout and target modules; an empty target list is a problem, not q/k/v/o."""
    names = sorted({n.rsplit(".", 1)[-1] for n, _ in lm.model.named_modules()} - {""})
    key = Keys.FT_SET + "targets"
    saved = st.session_state.get(key)
    if saved is not None and not set(saved) <= set(names):  # e.g. a preset of another model
        st.session_state[key] = [n for n in saved if n in names]
        st.caption(
            "Not in this model, left out: " + md_escape(", ".join(sorted(set(saved) - set(names))))
        )
    l1, l2, l3, l4 = st.columns([1, 1, 1, 3])
    r = l1.number_input("Rank r", value=d.lora_r, step=1, key=Keys.FT_SET + "r")
    alpha = l2.number_input("Alpha", value=d.lora_alpha, step=1, key=Keys.FT_SET + "alpha")
    dropout = l3.number_input("Dropout", value=d.lora_dropout, step=0.05, key=Keys.FT_SET + "drop")
    default = list(lora_targets(lm.model, d))
    targets = tuple(l4.multiselect("Target modules", names, default, key=key))
    problem = "" if targets else "Pick at least one LoRA target module (the layers that learn)."
    return r, alpha, dropout, targets, problem


def processes_ui(default: int) -> int:
    """How many training processes (DDP ranks) this machine runs the job on."""
    limit, what = machine_limit()
    return _number(
        "Processes",
        "processes",
        min(default, limit),
        f"Ranks started by torchrun (gloo on CPU, nccl on GPUs); this machine has {what}. "
        "Each rank trains on its own share of every step: the effective batch grows with them.",
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
