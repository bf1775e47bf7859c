"""Align page: the DPO launcher and its live view, and the alignment method chooser."""

from __future__ import annotations

import math

import streamlit as st

from components.alignment.charts import dpo_rewards_chart
from components.finetune.jobs import live_view
from components.models.pick import pick_model
from components.project import flash
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.alignment.dpo import MIN_PAIRS, create_dpo_run, dpo_config
from lifecycle.alignment.methods import recommend
from lifecycle.alignment.preferences import Preference, counts
from lifecycle.finetune.data import DataError, split
from lifecycle.finetune.jobs import submit
from lifecycle.finetune.runs import Run, list_runs
from lifecycle.models.sources import ModelLoadError, resolve
from lifecycle.scope import ScopeAnswers

DPO = dpo_config("", "")  # the launcher's defaults


def dpo_runs(project_id: str) -> list[Run]:
    """The project's DPO runs, newest first."""
    return [r for r in list_runs(project_id) if r.config.method == "dpo"]


def dpo_ui(project_id: str, prefs: list[Preference], task_id: str) -> None:
    """Launch a DPO job on this task's pairs, then watch it like any fine-tune."""
    pairs = [p for p in prefs if p.usable and p.task == task_id]
    st.caption(
        "DPO turns preference pairs straight into a LoRA update of the model: no reward model, "
        "no RL loop. The base without the adapter is the frozen reference that beta pulls "
        "towards. The job runs in the background like a fine-tune; evaluate it on the "
        "fine-tune page's Try it tab or the Evaluate page as `run:<id>`."
    )
    if len(pairs) < MIN_PAIRS:
        st.info(
            f"DPO needs at least {MIN_PAIRS} pairs of this task that pick A or B; there are "
            f"{len(pairs)}. Collect {MIN_PAIRS - len(pairs)} more (or add the seed set)."
        )
    else:
        launcher_ui(project_id, pairs, task_id)
    runs = dpo_runs(project_id)
    if runs:
        st.subheader("DPO runs")
        by_id = {r.id: r for r in runs}
        if st.session_state.get(Keys.ALIGN_DPO_RUN) not in by_id:
            st.session_state[Keys.ALIGN_DPO_RUN] = runs[0].id
        picked = st.selectbox("Run", list(by_id), key=Keys.ALIGN_DPO_RUN)
        live_view(picked)
        if any("rewards/margins" in m for m in by_id[picked].metrics):
            st.caption(
                "Implicit rewards: how far the policy moved towards chosen and away from rejected"
            )
            st.plotly_chart(
                dpo_rewards_chart(by_id[picked].metrics),
                width="stretch",
                key=Keys.ALIGN_DPO_CHART + picked,
            )


def _number(label: str, name: str, default, help: str | None = None, **kw):
    return st.number_input(label, value=default, key=Keys.ALIGN_DPO_SET + name, help=help, **kw)


def launcher_ui(project_id: str, pairs: list[Preference], task_id: str) -> None:
    """Base model, the few settings that matter, the step count and the Launch button."""
    base = pick_model("Base model", Keys.ALIGN_DPO_MODEL, project_id)
    c = st.columns(3)
    with c[0]:
        beta = _number(
            "Beta", "beta", DPO.extra["beta"], "Higher stays closer to the base.", min_value=0.0
        )
        lr = _number("Learning rate", "lr", DPO.learning_rate, format="%.6f", step=1e-5)
    with c[1]:
        epochs = _number("Epochs", "epochs", DPO.epochs, min_value=0.0, step=0.5)
        max_steps = _number("Max steps (0 = epochs)", "max_steps", DPO.max_steps, min_value=0)
    with c[2]:
        batch = _number("Batch size (pairs)", "batch", DPO.batch_size, min_value=1, step=1)
        rank = _number("LoRA rank", "r", DPO.lora_r, min_value=1, step=1)
    config = dpo_config(
        base,
        task_id,
        beta=float(beta),
        learning_rate=float(lr),
        epochs=float(epochs),
        max_steps=int(max_steps),
        batch_size=int(batch),
        lora_r=int(rank),
        lora_alpha=2 * int(rank),
    )
    train = len(split(pairs, config.val_share, config.seed)[0])
    steps = config.max_steps or math.ceil(math.ceil(train / config.batch_size) * config.epochs)
    st.caption(
        f"{len(pairs)} pairs ({train} to train on, the rest held out) · about {steps} steps; "
        "each step reads chosen and rejected with and without the adapter (about 2-3x a "
        "fine-tune step)."
    )
    if st.button("Launch DPO", type="primary", icon=":material/rocket_launch:", disabled=not base):
        launch(project_id, base, pairs, config)


def launch(project_id: str, base: str, pairs: list[Preference], config) -> None:
    """Create the run folder and start (or queue) the job."""
    store = get_store()
    try:
        resolve(base)
        run = submit(store, create_dpo_run(store, project_id, base, pairs, config))
    except (DataError, ModelLoadError) as err:
        show_error(err)
        return
    except OSError as err:
        show_error(
            f"Could not write the run folder ({err.strerror or err}): check the data folder."
        )
        return
    st.session_state[Keys.ALIGN_DPO_RUN] = run.id
    word = "started" if run.status.state == "running" else "queued behind the running job"
    flash(f"DPO {run.id} {word}.")
    st.rerun()


def chooser_ui(answers: ScopeAnswers, scoped: bool, prefs: list[Preference], has_sft: bool):
    """PPO-RLHF vs DPO vs KTO vs ORPO ranked for this project, each with its reasons."""
    c = st.columns(2)
    gpu = c[0].toggle("GPUs available for training", key=Keys.ALIGN_GPU)
    labels = c[1].number_input(
        "Thumbs-up/down labels you already log",
        0,
        10_000_000,
        0,
        key=Keys.ALIGN_LABELS,
        help="Single completions rated good or bad (e.g. from a product's feedback button).",
    )
    pairs = counts(prefs)["usable"]
    if not scoped:
        st.caption("Scope the project (stage 1) so budget and quality bar inform the ranking.")
    ranked = recommend(pairs, int(labels), answers, gpu, has_sft)
    for i, (method, reasons) in enumerate(ranked):
        with st.container(border=True):
            top = " · :green-badge[best fit here]" if i == 0 else ""
            # Knowledge text written for the app (like the stage guides), rendered as markdown.
            st.markdown(f"**{i + 1}. {method.name}**{top}")
            st.markdown("Why this place: " + "; ".join(reasons) + ".")
            d = st.columns(3)
            d[0].markdown(f"**Data**  \n{method.data}")
            d[1].markdown(f"**Models in memory**  \n{method.models_in_memory}")
            d[2].markdown(f"**Cost**  \n{method.cost}")
            st.markdown(f"**Strengths:** {method.strengths}")
            st.markdown("**Risks:**\n" + "\n".join(f"- {r}" for r in method.risks))
            st.caption(f"TRL: {method.trl_trainer}")
