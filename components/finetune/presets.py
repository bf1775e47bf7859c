"""Presets: fill the New run form from a saved preset or any run, and save a run's settings."""

from __future__ import annotations

import streamlit as st

from components.project import flash
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import DataError
from lifecycle.finetune.presets import list_presets, save_preset
from lifecycle.finetune.runs import Run
from lifecycle.text import md_escape

FORM_METHODS = ("lora", "full")  # what the New run form trains (DPO runs start on Align)
# FinetuneConfig field -> the settings widget's key suffix (Keys.FT_SET + suffix).
FIELDS = {
    "epochs": "epochs",
    "max_steps": "max_steps",
    "batch_size": "batch",
    "grad_accum": "accum",
    "max_len": "max_len",
    "processes": "processes",
    "warmup_ratio": "warmup",
    "seed": "seed",
    "val_share": "val",
    "eval_every": "every",
    "save_every": "save",
    "keep_checkpoints": "keep",
    "bf16": "bf16",
    "lora_r": "r",
    "lora_alpha": "alpha",
    "lora_dropout": "drop",
}


def fill_form(config: FinetuneConfig, source: str) -> None:
    """Write a config into the settings widgets (a callback: before they are drawn again)."""
    if config.method not in FORM_METHODS:
        flash(f"{md_escape(source)} is a {md_escape(config.method)} run: not a fine-tune form.")
        return
    st.session_state[Keys.FT_SET + "method"] = config.method
    st.session_state[Keys.FT_SET + "lr_" + config.method] = float(config.learning_rate)
    for name, suffix in FIELDS.items():
        st.session_state[Keys.FT_SET + suffix] = getattr(config, name)
    if config.target_modules:  # empty: the model's default, which the form draws itself
        st.session_state[Keys.FT_SET + "targets"] = list(config.target_modules)
    else:
        st.session_state.pop(Keys.FT_SET + "targets", None)
    flash(f"The form now holds the settings of {md_escape(source)}; check them, then launch.")


def start_from_ui(project_id: str, runs: list[Run]) -> None:
    """Pick a preset or an earlier run and fill the form with its settings."""
    presets = list_presets(get_store(), project_id)
    options = {f"preset:{k}": (f"Preset: {name}", c) for k, (name, c) in presets.items()}
    options.update(
        {r.ref: (f"Run {r.id}", r.config) for r in runs if r.config.method in FORM_METHODS}
    )
    if not options:
        return
    if st.session_state.get(Keys.FT_PRESET) not in options:
        st.session_state.pop(Keys.FT_PRESET, None)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    pick = left.selectbox(
        "Start from the settings of",
        list(options),
        format_func=lambda o: options[o][0],
        key=Keys.FT_PRESET,
        help="Fills the settings below; the base model and the data stay as chosen here.",
    )
    right.button(
        "Fill the form",
        icon=":material/input:",
        on_click=fill_form,
        args=(options[pick][1], options[pick][0]),
    )


def run_settings_ui(project_id: str, run: Run) -> None:
    """Start a new run from this run's settings, or save them as a named preset."""
    if run.config.method not in FORM_METHODS:
        return
    with st.expander("Reuse these settings"):
        st.button(
            "Use these settings for a new run",
            key=Keys.FT_REUSE + run.id,
            icon=":material/content_copy:",
            on_click=fill_form,
            args=(run.config, f"run {run.id}"),
            help="Fills the New run tab's form; open that tab to launch.",
        )
        key = Keys.FT_PRESET_NAME + run.id
        name = st.text_input("Preset name", key=key, placeholder="e.g. LoRA r16, 3 epochs")
        if st.button("Save as preset", key=Keys.FT_SAVE_PRESET + run.id, icon=":material/save:"):
            try:
                save_preset(get_store(), project_id, name, run.config)
            except DataError as err:
                show_error(err)
                return
            st.success(f"Saved the preset {md_escape(' '.join(name.split()))}.")
