"""Alignment core: preference store and TRL export, seed set, reward model, best-of-n, chooser."""

import json
import random

import pytest

from lifecycle.alignment.best_of_n import BestOfNError, best_of_n
from lifecycle.alignment.methods import load_methods, recommend
from lifecycle.alignment.preferences import (
    Pair,
    Preference,
    PreferenceError,
    Side,
    counts,
    delete_preference,
    list_preferences,
    load_seed,
    make_pair,
    save_preference,
    to_trl_jsonl,
)
from lifecycle.alignment.reward import (
    MIN_PAIRS,
    RewardConfig,
    RewardError,
    list_rewards,
    load_embedder,
    load_reward,
    train_reward,
    wilson,
)
from lifecycle.alignment.reward_fit import pairs_needed
from lifecycle.models import GenParams, load_model
from lifecycle.scope import ScopeAnswers
from lifecycle.store import Store
from lifecycle.tasks import load_tasks

SYSTEM = {"role": "system", "content": "you are a helpful assistant ."}
KEYWORD = "Verified by the banana team."
SENTENCES = [
    "The meeting moved to Thursday afternoon.",
    "Paris is the capital of France.",
    "The train leaves at nine.",
    "Add two cups of flour and stir.",
    "The printer on floor three is broken.",
    "Our sales grew by twelve percent.",
    "The museum opens at ten on Sundays.",
    "Bring a jacket, it will rain.",
    "The invoice was paid last week.",
    "The cat sleeps on the sofa all day.",
    "Water boils at one hundred degrees.",
    "The library closes early today.",
    "He scored twice in the second half.",
    "The bridge was built in 1932.",
    "Call the plumber before noon.",
    "Tickets cost forty euros each.",
]


def pref(n: int, chosen: str, rejected: str, choice: str = "a") -> Preference:
    return Preference(
        f"p{n}", f"Question {n}: tell me something.", Side(chosen), Side(rejected), choice
    )


def keyword_prefs(n: int = 48) -> list[Preference]:
    """Pairs of unrelated sentences where the one carrying the keyword is always preferred."""
    rng = random.Random(0)
    prefs = []
    for k in range(n):
        i, j = rng.sample(range(len(SENTENCES)), 2)
        good, bad = f"{SENTENCES[i]} {KEYWORD}", SENTENCES[j]
        # Half the pairs put the preferred text on side b, so "a wins" cannot be learned.
        prefs.append(pref(k, good, bad) if k % 2 else pref(k, bad, good, choice="b"))
    return prefs


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def lm(tiny_causal):
    return load_model(str(tiny_causal))


@pytest.fixture
def keyword_reward(embedder):
    steps = []
    model = train_reward(
        "proj",
        keyword_prefs(),
        RewardConfig(held_out=0.33, seed=1),
        embedder=embedder,
        on_step=lambda step, total, loss: steps.append((step, total, loss)),
    )
    return model, steps


def test_preferences_round_trip_through_the_store_and_export_as_trl(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("Align")
    pair = Pair("Summarize this.", (SYSTEM,), Side("short and right"), Side("long"), a_first=False)
    saved = [
        save_preference(store, project.id, pair.judge("second", "more faithful")),
        save_preference(store, project.id, pair.judge("first")),
        save_preference(store, project.id, pair.judge("tie")),
        save_preference(store, project.id, pair.judge("both_bad")),
    ]
    loaded = list_preferences(store, project.id)
    assert [p.choice for p in loaded] == ["a", "b", "tie", "both_bad"]
    assert loaded[0] == saved[0] and loaded[0].reason == "more faithful"
    assert counts(loaded) == {"a": 1, "b": 1, "tie": 1, "both_bad": 1, "usable": 2}

    export = to_trl_jsonl(loaded)
    rows = [json.loads(line) for line in export.text.splitlines()]
    assert (export.rows, export.left_out) == (
        2,
        2,
    ) and "2 ties or both-bad left out" in export.summary
    assert rows[0] == {"prompt": "Summarize this.", "chosen": "short and right", "rejected": "long"}
    assert rows[1]["chosen"] == "long" and rows[1]["rejected"] == "short and right"
    chat = json.loads(to_trl_jsonl(loaded, conversational=True).text.splitlines()[0])
    assert chat["prompt"] == [SYSTEM] and chat["chosen"][0]["role"] == "assistant"

    delete_preference(store, project.id, saved[2].id)
    assert [p.choice for p in list_preferences(store, project.id)] == ["a", "b", "both_bad"]


def test_blind_pick_maps_back_to_the_side_that_wrote_it():
    shown_b_first = Pair("q", (), Side("from A"), Side("from B"), a_first=False)
    assert shown_b_first.shown == ("from B", "from A")
    assert shown_b_first.choice_for("first") == "b" and shown_b_first.choice_for("second") == "a"
    assert Pair("q", (), Side("x"), Side("y"), a_first=True).choice_for("first") == "a"
    assert shown_b_first.choice_for("tie") == "tie"
    with pytest.raises(PreferenceError, match="Pick one of"):
        shown_b_first.choice_for("left")


def test_make_pair_uses_both_settings_and_a_seeded_order(lm):
    messages = [SYSTEM, {"role": "user", "content": "one two three"}]
    greedy, hot = GenParams(max_new_tokens=6), GenParams(max_new_tokens=6, do_sample=True, seed=3)
    orders = {make_pair(lm, None, messages, greedy, hot, seed=s).a_first for s in range(8)}
    pair = make_pair(lm, None, messages, greedy, hot, seed=5)
    assert orders == {True, False}  # the order really is randomised
    assert pair.a_first == make_pair(lm, None, messages, greedy, hot, seed=5).a_first
    assert pair.a.params["do_sample"] is False and pair.b.params["seed"] == 3
    assert pair.prompt == "one two three" and pair.a.model_ref == lm.ref
    with pytest.raises(PreferenceError, match="same model and settings"):
        make_pair(lm, lm, messages, greedy, greedy)


def test_seed_set_is_valid_and_covers_the_shipped_tasks():
    seed = load_seed()
    tasks = load_tasks()
    assert 30 <= len(seed) <= 60
    assert {p.task for p in seed} == {"summarization", "ner", "information_retrieval"}
    for p in seed:
        assert p.usable and p.chosen.strip() and p.rejected.strip() and p.chosen != p.rejected
        assert p.task in tasks and p.reason
        assert p.messages[0]["role"] == "system" and p.prompt in p.messages[-1]["content"]
    assert to_trl_jsonl(list(seed)).rows == len(seed)


def test_reward_model_learns_a_keyword_preference(keyword_reward, embedder):
    model, steps = keyword_reward
    assert model.accuracy.value > 0.9 and model.accuracy.n >= 12
    assert model.accuracy.low < model.accuracy.value <= model.accuracy.high <= 1.0
    assert len(steps) == model.stopped_at and steps[-1][:2] == (model.stopped_at,) * 2
    assert model.losses[-1] < model.losses[0] / 4  # the pairwise loss really went down
    unseen = "The shop sells fresh bread every morning."
    assert model.score("q", f"{unseen} {KEYWORD}") > model.score("q", unseen)

    again = load_reward("proj", embedder=embedder)  # newest saved model, from disk
    assert again.id == model.id and again.accuracy == model.accuracy
    assert again.score("q", unseen) == pytest.approx(model.score("q", unseen), abs=1e-5)
    assert [info["id"] for info in list_rewards("proj")] == [model.id]


def test_a_reward_model_on_noise_stops_early_instead_of_memorising(embedder):
    """Preferences that carry no signal: before, the head drove its training loss to 0.05
    while held-out accuracy stayed at chance; now it stops where unseen pairs stop improving."""
    rng = random.Random(3)
    noise = [pref(k, *rng.sample(SENTENCES, 2), choice=rng.choice("ab")) for k in range(16)]
    model = train_reward("proj", noise, embedder=embedder)
    assert model.stopped_at < model.config.steps
    assert model.losses[-1] > 0.4  # near ln 2 (a coin flip), not memorised
    assert len(model.val_losses) == model.config.steps
    assert min(model.val_losses) == model.val_losses[model.stopped_at - 1]
    again = load_reward("proj", embedder=embedder)
    assert again.stopped_at == model.stopped_at and again.val_losses == model.val_losses


def test_how_many_pairs_a_useful_reward_model_needs():
    held, total = pairs_needed(0.25)
    assert (held, total) == (21, 84)
    assert wilson(round(0.7 * held), held).low > 0.5 >= wilson(round(0.7 * 20), 20).low


def test_reward_training_explains_missing_data(embedder):
    few = keyword_prefs(MIN_PAIRS - 3)
    with pytest.raises(RewardError, match="Collect 3 more"):
        train_reward("proj", few, embedder=embedder)
    ties = [pref(k, "x", "y", choice="tie") for k in range(12)]
    with pytest.raises(RewardError, match="All 12 preferences are ties or both bad"):
        train_reward("proj", ties, embedder=embedder)
    with pytest.raises(RewardError, match="no reward model yet"):
        load_reward("never-trained")


def test_wilson_interval_matches_the_textbook_values():
    acc = wilson(9, 10)
    assert acc.value == 0.9
    assert acc.low == pytest.approx(0.5958, abs=1e-3) and acc.high == pytest.approx(
        0.9821, abs=1e-3
    )
    assert wilson(0, 0).n == 0


def test_best_of_n_keeps_the_highest_reward(lm, keyword_reward):
    model, _ = keyword_reward
    messages = [SYSTEM, {"role": "user", "content": "one two"}]
    params = GenParams(max_new_tokens=8, do_sample=True, temperature=1.5, top_k=0, seed=10)
    result = best_of_n(lm, messages, model, n=4, params=params)
    rewards = [s.reward for s in result.samples]
    assert [s.seed for s in result.samples] == [10, 11, 12, 13]
    assert result.best.reward == max(rewards) and result.baseline is result.samples[0]
    assert len({s.text for s in result.samples}) > 1  # the seeds gave different samples
    assert result.gain == pytest.approx(max(rewards) - sum(rewards) / 4)
    assert rewards == pytest.approx(model.score_many("one two", [s.text for s in result.samples]))
    with pytest.raises(BestOfNError, match="turn sampling on"):
        best_of_n(lm, messages, model, n=3, params=GenParams(max_new_tokens=4))


def test_method_chooser_follows_the_data_and_the_budget():
    assert set(load_methods()) == {"dpo", "orpo", "kto", "ppo_rlhf"}
    assert recommend(pairs=40)[0][0].id == "dpo"
    assert recommend(labels=2000)[0][0].id == "kto"
    assert recommend(pairs=500, has_sft=False)[0][0].id == "orpo"
    top, reasons = recommend(pairs=40)[0]
    assert any("40 pairs" in r for r in reasons)
    rich = ScopeAnswers(budget="$100k-1M", quality_bar="customer-facing")
    ppo_rank = [m.id for m, _ in recommend(pairs=5000, answers=rich, gpu=True)].index("ppo_rlhf")
    assert ppo_rank < [m.id for m, _ in recommend(pairs=5000)].index("ppo_rlhf")
