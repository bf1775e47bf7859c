"""Align page: seed set, blind pairs and best-of-n on the fake model, reward model, DPO on a tiny
model (real weights to train), chooser."""

from __future__ import annotations

import time

import pytest

from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.alignment.preferences import (
    Preference,
    Side,
    list_preferences,
    load_seed,
    save_preference,
)
from lifecycle.alignment.reward import list_rewards, train_reward
from lifecycle.finetune.runs import ACTIVE, RUN, list_runs
from lifecycle.text import md_escape
from tests.fake_model import install

from .helpers import button, goto, open_tab, rerun, texts

PAGE = "app_pages/align.py"
ANSWERING_KEYS = (Keys.ALIGN_SIDE + "a_model", Keys.ALIGN_SIDE + "b_model", Keys.ALIGN_BON_MODEL)
FAKE = "fake:model"


@pytest.fixture(autouse=True)
def hub_off(monkeypatch):
    """The hub stays off whatever the developer's shell says."""
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)


@pytest.fixture
def fake():
    return install()


@pytest.fixture
def at(make_app, project, tiny_causal, fake):
    """The fake model answers on every side, DPO trains the tiny model (the slow embedded one
    never loads)."""
    at = make_app()
    for key, ref in (*((k, FAKE) for k in ANSWERING_KEYS), (Keys.ALIGN_DPO_MODEL, tiny_causal)):
        at.session_state[key] = OTHER
        at.session_state[other_key(key)] = str(ref)
    at.session_state[Keys.ALIGN_MAX_TOKENS] = 8
    return goto(at, PAGE)


def metric(at, label):
    [m] = [m for m in at.metric if m.label == label]
    return m.value


def add_seed(at):
    return rerun(button(at, "Add the seed set").click())


def tab(at, label):
    """Open one of the page's lazy tabs: only its content runs."""
    return open_tab(at, Keys.ALIGN_TAB, label)


def test_the_seed_set_fills_the_table_and_the_trl_download(at, store, project):
    assert texts(at.title) == ["4 · Align"]
    assert "No preference yet: judge a pair above or add the seed set." in texts(at.info)
    assert not at.get("download_button")
    closed = [
        t for t in at.tabs if t.label in ("Reward model", "Best-of-n", "DPO", "Which method?")
    ]
    assert len(closed) == 4 and not any(t.children for t in closed)  # closed tabs do not run
    assert any(
        t.startswith("Training needs at least 8 pre") for t in texts(tab(at, "Reward model").info)
    )
    at = add_seed(tab(at, "Collect preferences"))
    assert len(list_preferences(store, project.id)) == len(load_seed()) == 40
    assert metric(at, "Usable pairs (A or B)") == "40"
    [table] = [d.value for d in at.dataframe if "verdict" in d.value.columns]
    assert len(table) == 40 and set(table["sides"]) == {"seed set"}
    [download] = at.get("download_button")
    assert download.label == "Download as TRL JSONL" and not download.proto.disabled
    assert button(at, "Add the seed set").disabled  # everything is in already


def test_a_blind_pair_is_judged_saved_revealed_and_deleted(at, store, project, fake):
    fake.enqueue("Alice and Bob meet at noon.", "Bob cancels lunch.")
    at = rerun(button(at, "Generate a blind pair").click())
    pair = at.session_state[Keys.ALIGN_PAIR]["pair"]
    shown = [m.value for m in at.markdown if m.value.startswith("**Completion")]
    assert shown == ["**Completion 1**", "**Completion 2**"]
    assert sorted(pair.shown) == ["Alice and Bob meet at noon.", "Bob cancels lunch."]
    at.text_input(key=Keys.ALIGN_REASON).input("more faithful")
    at = rerun(at.button(key=Keys.ALIGN_JUDGE + "first").click())
    [pref] = list_preferences(store, project.id)
    assert pref.chosen == pair.shown[0] and pref.reason == "more faithful"
    assert pref.choice == ("a" if pair.a_first else "b")
    assert pref.task == "summarization" and pref.messages[0]["role"] == "system"
    assert any("A was " in t and "greedy" in t for t in texts(at.toast))
    assert at.session_state[Keys.ALIGN_PAIR] is None  # judged: the next pair starts fresh

    at = rerun(at.multiselect(key=Keys.ALIGN_DELETE).select(pref.id))
    at = rerun(button(at, "Delete selected").click())
    assert list_preferences(store, project.id) == []


def test_same_model_and_settings_on_both_sides_is_refused(at):
    at.toggle(key=Keys.ALIGN_SIDE + "b_do_sample").set_value(False)
    at = rerun(button(rerun(at), "Generate a blind pair").click())
    assert any("Both sides use the same model and settings" in e for e in texts(at.error))


def test_all_ties_are_explained_and_training_stays_off(at, store, project):
    for i in range(9):
        tie = Preference(f"t{i}", f"q{i}", Side("x"), Side("y"), "tie", created_at=f"{i}")
        save_preference(store, project.id, tie)
    at = tab(at, "Reward model")
    assert any(t.startswith("All 9 preferences are ties or both bad") for t in texts(at.info))
    assert button(at, "Train the reward model").disabled


@pytest.mark.slow
def test_reward_model_trains_on_the_seed_set_then_scores(at, project):
    at = tab(add_seed(at), "Reward model")
    assert "There is no reward model yet: train one above, then score any completion here." in (
        texts(at.info)
    )
    at = rerun(button(at, "Train the reward model").click())
    [info] = list_rewards(project.id)
    assert info["pairs"] == 40 and len(info["val_losses"]) == 200
    assert len(info["losses"]) == info["stopped_at"] <= 200  # stopped where unseen pairs did
    assert any(
        c.startswith("A useful reward model (right about 70% of the time) needs about 21")
        for c in texts(at.caption)
    )
    assert metric(at, "Held-out pairwise accuracy") == f"{info['accuracy']['value']:.0%}"
    assert info["losses"][-1] < info["losses"][0]
    assert len([c for c in at.get("plotly_chart") if "pairwise loss" in c.proto.spec]) == 1

    at = rerun(at.text_area(key=Keys.ALIGN_SCORE_TEXT).input("A short faithful summary."))
    at = rerun(button(at, "Score it").click())
    assert metric(at, "Reward").startswith(("+", "-"))


def test_a_perfect_score_on_four_held_out_pairs_is_not_called_better_than_chance(at, project):
    """Wilson puts 4/4 at 51-100 %: the page said "more often than chance" for luck."""
    import json

    from lifecycle.alignment.reward import reward_root

    folder = reward_root(project.id) / "lucky"
    folder.mkdir(parents=True)
    info = {"id": "lucky", "pairs": 16, "config": {"held_out": 0.25, "steps": 200}}
    info["accuracy"] = {"value": 1.0, "low": 0.51, "high": 1.0, "n": 4}
    (folder / "config.json").write_text(json.dumps(info))
    at = tab(at, "Reward model")
    assert not [s for s in texts(at.success) if "more often than chance" in s]
    assert any("too few held-out pairs to tell" in w for w in texts(at.warning))


def test_best_of_n_picks_the_highest_reward(at, project, fake):
    samples = ["A short faithful summary.", "Something else entirely.", "Alice meets Bob."]
    fake.enqueue(*samples)
    train_reward(project.id, list(load_seed()))
    at = tab(at, "Best-of-n")
    at.slider(key=Keys.ALIGN_BON_N).set_value(3)
    at = rerun(button(rerun(at), "Sample 3 and let the reward model pick").click())
    result = at.session_state[Keys.ALIGN_BON]["result"]
    [table] = [d.value for d in at.dataframe if "pick" in d.value.columns]
    assert list(table["seed"]) == [0, 1, 2]
    assert table["reward"].idxmax() == result.best_index
    assert list(table["pick"]).index("★") == result.best_index
    assert any(m.value.startswith("**Best of 3** · seed") for m in at.markdown)
    assert metric(at, "Gain over an average single sample") == f"{result.gain:+.3f}"
    assert result.best.reward == max(s.reward for s in result.samples)
    assert [s.text for s in result.samples] == samples


@pytest.mark.slow
def test_dpo_launches_a_job_on_this_tasks_pairs(at, store, project):
    at = tab(at, "DPO")
    assert any(t.startswith("DPO needs at least 8 pairs of this task") for t in texts(at.info))
    at = tab(add_seed(tab(at, "Collect preferences")), "DPO")
    at.number_input(key=Keys.ALIGN_DPO_SET + "max_steps").set_value(1)
    at = rerun(button(rerun(at), "Launch DPO").click())
    [run] = list_runs(project.id)
    assert run.config.method == "dpo" and run.config.max_steps == 1
    summaries = sum(p.task == "summarization" for p in load_seed())
    assert run.dataset["train"] + run.dataset["validation"] == summaries
    assert store.get_record(project.id, RUN, run.id).data["method"] == "dpo"
    live = [m.value for m in at.markdown if md_escape(run.id) in m.value]  # the live view
    assert any("dpo on" in m for m in live), live
    end = time.monotonic() + 600
    while list_runs(project.id)[0].status.state in ACTIVE and time.monotonic() < end:
        time.sleep(0.5)  # let the worker finish before the temp data folder goes
    assert list_runs(project.id)[0].status.state not in ACTIVE


def test_the_chooser_ranks_orpo_first_without_a_fine_tune_or_gpus(at):
    at = tab(add_seed(at), "Which method?")
    cards = [m.value for m in at.markdown if m.value[:3] in ("**1", "**2", "**3", "**4")]
    assert cards[0].startswith("**1. ORPO") and "best fit here" in cards[0]
    assert cards[-1].startswith("**4. PPO-based RLHF")
    reasons = [m.value for m in at.markdown if m.value.startswith("Why this place:")]
    assert "no supervised fine-tune yet" in reasons[0]
    assert "impractical without GPUs" in reasons[-1]
