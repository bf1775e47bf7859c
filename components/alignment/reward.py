"""Align page, using preferences: train the reward model, score a completion, best-of-n."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.alignment.charts import best_of_n_chart, reward_loss_chart
from components.models.load import load_ui
from components.models.pick import pick_model
from components.resources import get_reward, get_reward_embedder
from components.state import Keys
from components.untrusted import show_error, show_untrusted
from lifecycle.alignment.best_of_n import MAX_N, BestOfN, BestOfNError, best_of_n
from lifecycle.alignment.preferences import Preference, task_messages
from lifecycle.alignment.reward import (
    EMBEDDED_EMBEDDER,
    Accuracy,
    RewardConfig,
    RewardError,
    list_rewards,
    train_reward,
    usable_pairs,
)
from lifecycle.alignment.reward_fit import USEFUL_ACCURACY, pairs_needed
from lifecycle.models import GenParams
from lifecycle.models.generation import GenerationError
from lifecycle.text import safe_markdown

MIN_HELD_OUT = 10  # below this a perfect score is still plausible luck: no verdict
NO_REWARD = "There is no reward model yet: train one in the Reward model tab first."


def train_ui(project_id: str, prefs: list[Preference]) -> None:
    """Settings, the train button with progress, and why training cannot start yet."""
    try:
        usable_pairs(prefs)
        problem = ""
    except RewardError as err:
        problem = str(err)
        st.info(safe_markdown(problem))
    with st.expander("Training settings"):
        held = st.slider(
            "Held-out share (measures accuracy on pairs the model never saw)",
            0.1,
            0.5,
            0.25,
            0.05,
            key=Keys.ALIGN_HELD_OUT,
        )
        steps = st.number_input("Steps", 20, 2000, 200, 20, key=Keys.ALIGN_STEPS)
    if not st.button(
        "Train the reward model", type="primary", icon=":material/school:", disabled=bool(problem)
    ):
        return
    bar = st.progress(0.0, text="Embedding the pairs with MiniLM...")

    def step(done: int, total: int, loss: float) -> None:
        bar.progress(done / total, text=f"step {done}/{total} · loss {loss:.3f}")

    try:
        train_reward(
            project_id,
            prefs,
            RewardConfig(steps=int(steps), held_out=float(held)),
            EMBEDDED_EMBEDDER,
            get_reward_embedder(EMBEDDED_EMBEDDER),
            step,
        )
    except (RewardError, OSError) as err:
        show_error(err)


def latest_reward(project_id: str) -> dict | None:
    """The newest saved reward model's description, or None."""
    saved = list_rewards(project_id)
    return saved[0] if saved else None


def reward_report(info: dict) -> None:
    """Held-out accuracy with its interval, what it means, and the loss curve."""
    acc = Accuracy(**{k: (info.get("accuracy") or {}).get(k, 0) for k in Accuracy.__annotations__})
    m = st.columns(3)
    m[0].metric("Held-out pairwise accuracy", f"{acc.value:.0%}", help=acc.text)
    m[1].metric("95 % interval", f"{acc.low:.0%} – {acc.high:.0%}")
    m[2].metric("Pairs (train + held out)", info.get("pairs", 0))
    config = info.get("config") or {}
    held, total = pairs_needed(float(config.get("held_out") or 0.25))
    if acc.n < MIN_HELD_OUT:
        st.warning(
            f"{acc.text}: too few held-out pairs to tell this model from a coin flip (4 lucky "
            f"guesses in a row happen one time in 16). Collect about {total} pairs in all."
        )
    elif acc.low > 0.5:
        st.success(f"It picks the preferred completion more often than chance: {acc.text}.")
    else:
        st.warning(
            f"{acc.text}: the interval reaches 0.5, so this is not yet distinguishable from a coin "
            "flip. More (and more consistent) pairs narrow it."
        )
    st.caption(
        f"A useful reward model (right about {USEFUL_ACCURACY:.0%} of the time) needs about "
        f"{held} held-out pairs for its interval to clear chance: about {total} pairs in all "
        f"at this held-out share. This one has {info.get('pairs', 0)}."
    )
    losses, val_losses = info.get("losses") or [], info.get("val_losses") or []
    if val_losses:
        st.caption(
            f"Training stopped at step {len(losses)} of {config.get('steps', len(val_losses))}, "
            "where the loss on unseen folds of the training pairs was lowest: past it, the "
            "head memorises its pairs instead of learning what makes a completion better."
        )
    if losses:
        chart = reward_loss_chart(losses, val_losses)
        st.plotly_chart(chart, width="stretch", key=Keys.ALIGN_REWARD_CHART + info["id"])


def score_ui(project_id: str, text: str) -> None:
    """The reward of any completion of the input above (higher = preferred)."""
    info = latest_reward(project_id)
    if info is None:
        st.info("There is no reward model yet: train one above, then score any completion here.")
        return
    completion = st.text_area("A completion of the input above", key=Keys.ALIGN_SCORE_TEXT)
    if st.button("Score it", icon=":material/grade:", disabled=not completion.strip()):
        try:
            reward = get_reward(project_id, info["id"]).score(text, completion.strip())
        except RewardError as err:
            show_error(err)
            return
        st.metric("Reward", f"{reward:+.3f}")
        st.caption(
            "Rewards compare completions of the same input; their scale means nothing alone."
        )


def best_of_n_ui(project_id: str, task_id: str, text: str) -> None:
    """n samples scored by the reward model beside the single sample n = 1 returns."""
    info = latest_reward(project_id)
    if info is None:
        st.info(NO_REWARD)
        return
    ref = pick_model("Model", Keys.ALIGN_BON_MODEL, project_id, serving=True, gguf=True)
    c = st.columns(2)
    n = c[0].slider("n (samples)", 2, MAX_N, 4, key=Keys.ALIGN_BON_N)
    temp = c[1].slider("Temperature", 0.1, 2.0, 0.9, 0.1, key=Keys.ALIGN_BON_TEMP)
    if st.button(
        f"Sample {n} and let the reward model pick",
        type="primary",
        icon=":material/casino:",
        disabled=not (ref and text),
    ):
        _run(project_id, info["id"], ref, task_id, text, n, temp)
    last = st.session_state.get(Keys.ALIGN_BON) or {}
    if last.get("project") == project_id:
        show_best_of_n(last["result"])


def _run(project_id: str, reward_id: str, ref: str, task_id: str, text: str, n: int, temp: float):
    lm = load_ui(ref)
    if lm is None:
        return
    bar = st.progress(0.0, text=f"Sampling {n} completions...")
    tokens = int(st.session_state.get(Keys.ALIGN_MAX_TOKENS, 64))
    params = GenParams(tokens, do_sample=True, temperature=float(temp))
    try:
        result = best_of_n(
            lm,
            task_messages(task_id, text),
            get_reward(project_id, reward_id),
            n,
            params,
            prompt=text,
            on_sample=lambda done, total: bar.progress(done / total, f"sample {done}/{total}"),
        )
    except (BestOfNError, GenerationError, RewardError) as err:
        show_error(err)
        return
    st.session_state[Keys.ALIGN_BON] = {"project": project_id, "result": result}


def show_best_of_n(result: BestOfN) -> None:
    """The single sample and the pick side by side, then every sample with its reward."""
    one, best = result.baseline, result.best
    cols = st.columns(2)
    for col, title, s in (
        (cols[0], "Single sample (what n = 1 returns)", one),
        (cols[1], f"Best of {len(result.samples)}", best),
    ):
        with col.container(border=True):
            st.markdown(f"**{title}** · seed {s.seed} · reward {s.reward:+.3f}")
            show_untrusted(s.text, empty="_(empty)_")
    st.metric(
        "Gain over an average single sample",
        f"{result.gain:+.3f}",
        help="Reward of the pick minus the mean reward of the n samples.",
    )
    st.plotly_chart(best_of_n_chart(result), width="stretch", key=Keys.ALIGN_BON_CHART)
    table = pd.DataFrame(
        {
            "pick": ["★" if i == result.best_index else "" for i in range(len(result.samples))],
            "seed": [s.seed for s in result.samples],
            "reward": [round(s.reward, 4) for s in result.samples],
            "completion": [s.text for s in result.samples],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        "Best-of-n spends n generations to buy reward; a reward model that learned a shortcut "
        "(length, a keyword) is exploited just as well: read the pick, not only its score."
    )
