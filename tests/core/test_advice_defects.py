"""One test per defect found in the advice (each failed on the code before the fix)."""

from __future__ import annotations

import pytest

from lifecycle.overview import overview, stage_states, stage_status
from lifecycle.plan import derive_durations
from lifecycle.scope import Scope, ScopeAnswers, band_models, task_card
from lifecycle.selection.advisor import VOCABULARY, AdvisorInput, advise, compare_routes
from lifecycle.selection.catalog import load_catalog
from lifecycle.store import Store
from lifecycle.tasks import load_tasks

CUSTOMERS = ScopeAnswers(quality_bar="customer-facing", budget="$10k-100k")


def card(task_id: str, answers: ScopeAnswers = ScopeAnswers()):
    return task_card(load_tasks()[task_id], answers)


def ids(card_) -> set[str]:
    return {m.id for m in band_models(card_, load_catalog())}


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "db.sqlite")


# 1. Size bands follow the architecture (no blanket min(upper/4, 7B) floor).
def test_a_customer_facing_summary_band_keeps_the_seq2seq_models_it_recommends():
    summary = card("summarization", CUSTOMERS)
    assert summary.architecture.name == "encoder-decoder"
    assert summary.size_range_b[0] < 1  # was 2B-8B: only FLAN-T5 XL survived
    assert {"facebook/bart-large-cnn", "google/flan-t5-large"} <= ids(summary)


def test_the_translation_band_holds_marian_and_nllb():
    assert {"Helsinki-NLP/opus-mt-en-fr", "facebook/nllb-200-distilled-600M"} <= ids(
        card("translation")
    )  # was 3.25B-13B at a customer-facing bar, excluding both
    assert "facebook/nllb-200-distilled-600M" in ids(card("translation", CUSTOMERS))


def test_ner_with_labels_is_an_encoder_band_that_holds_bert_large():
    ner = card("ner", ScopeAnswers(labelled_examples="1k-10k", quality_bar="customer-facing"))
    assert ner.architecture.name == "encoder-only"
    assert "bert-large-cased" in ids(ner)  # 0.33B: excluded by the old 2B-8B band


# 2. Ladders follow the architecture and the data.
def test_ner_with_thousands_of_labels_starts_by_fine_tuning_an_encoder_tagger():
    ner = card("ner", ScopeAnswers(labelled_examples="1k-10k"))
    status = {r.step: r.status for r in ner.ladder}
    assert ner.start_rung == "full-fine-tune"  # was "few-shot", with LoRA planned
    assert status["peft"] == "not needed" and status["zero-shot"] == "baseline"


def test_without_labels_ner_prompts_a_decoder_and_says_why():
    ner = card("ner")
    assert ner.architecture.name == "decoder-only" and ner.start_rung == "few-shot"
    assert "few hundred labelled examples" in ner.architecture.why


def test_a_rung_kept_as_a_baseline_is_not_badged_skip():
    statuses = {r.step: r.status for r in card("summarization").ladder}
    assert statuses["zero-shot"] == "baseline"  # was "skip" beside "keep it as a baseline"
    assert "skip" not in {r.status for t in load_tasks() for r in card(t).ladder}


# 3. One source of truth for what each stage needs.
def test_the_plan_schedules_align_only_when_the_scope_card_plans_it():
    scope = Scope("summarization", (), CUSTOMERS)
    summary = card("summarization", CUSTOMERS)
    align = derive_durations(scope, [summary])["align"]
    assert summary.rung("rlhf").status == "if needed"
    assert (align.days, align.need) == (0, "if needed")  # was 15 days of "safety pass"
    chat_scope = Scope("chatbot", (), CUSTOMERS)
    chat = derive_durations(chat_scope, [card("chatbot", CUSTOMERS)])["align"]
    assert chat.days > 0 and chat.need == "needed"


def test_untouched_stages_are_not_started_on_home_and_in_the_report(store):
    project = store.create_project("Fresh")
    store.put_record(project.id, "scope", Scope("summarization").to_dict())
    ov = overview(store, project.id)
    status = stage_status(ov)
    for stage in ("adapt", "align", "evaluate", "deploy", "infrastructure"):
        assert status[stage] == "not started"  # was "10 days planned" or "skipped"
    states = stage_states(ov)
    assert states["align"].need == "if needed" and states["align"].days == 0


# 4. The timeline and budget are one input, and the plan says when it does not fit.
def test_a_one_week_timeline_is_flagged_with_what_to_cut(store):
    project = store.create_project("Rushed")
    answers = ScopeAnswers(
        timeline_weeks=1, labelled_examples="1k-10k", quality_bar="customer-facing"
    )
    store.put_record(project.id, "scope", Scope("chatbot", ("ner",), answers).to_dict())
    fit = overview(store, project.id).fit
    assert not fit.fits and "your scope allows 1 week" in fit.problems[0]
    text = " ".join(fit.cuts)
    assert "Leave preference tuning (Align)" in text and "Narrow the scope" in text
    assert "Even with every cut" in fit.cuts[-1]  # 1 week is too short for any plan


def test_the_advisor_takes_budget_and_weeks_from_the_scope(store):
    project = store.create_project("Linked")
    scope = Scope("chatbot", (), ScopeAnswers(budget="$1k-10k", timeline_weeks=8))
    store.put_record(project.id, "scope", scope.to_dict())
    store.put_record(project.id, "model", {"advisor": {"budget_usd": 1e9, "time_weeks": 500.0}})
    adv = overview(store, project.id).advisor_input
    assert (adv.budget_usd, adv.time_weeks) == (10_000, 8)  # the scope's, not a second input


def test_pre_training_beyond_the_budget_is_named_with_the_cheaper_route(store):
    project = store.create_project("Costly")
    answers = ScopeAnswers(budget="$10k-100k", timeline_weeks=104)
    store.put_record(project.id, "scope", Scope("summarization", (), answers).to_dict())
    advisor = {"vocabulary": VOCABULARY[2], "domain_tokens": 1e12, "gpus": 512}
    store.put_record(
        project.id, "model", {"model_id": "meta-llama/Llama-2-13b-hf", "advisor": advisor}
    )
    ov = overview(store, project.id)
    # the final run (~$91k) fits the $100k budget, but not with failed runs (~$136k)
    assert ov.advice.decision != "pre-train from scratch"
    assert any(r.startswith("Budget: $100,000 of the ~$") for r in ov.advice.reasons)


# 7. Pre-training advice carries its caveat and is compared in the same units.
def test_pre_training_advice_warns_that_open_models_saw_far_more_tokens():
    advice = advise(
        AdvisorInput(
            params_b=7, vocabulary=VOCABULARY[2], domain_tokens=1e12, budget_usd=1e6, time_weeks=52
        )
    )
    assert advice.decision == "pre-train from scratch"
    text = " ".join(advice.reasons)
    assert "2-15T tokens" in text and "with failed runs and ablations" in text
    assert advice.pretrain_all_in_usd == pytest.approx(1.5 * advice.pretrain.cost_usd)
    routes = {r.route: r for r in compare_routes(advice, 64)}
    assert routes["Pre-train: final run"].flops == pytest.approx(5.88e21)  # 6 x 7e9 x 140e9
    assert routes["Pre-train: final run"].gpu_hours == pytest.approx(13_088, rel=1e-3)
    reuse = routes["Reuse + LoRA"]
    assert reuse.flops > 0 and reuse.gpu_hours > 0 and reuse.cost_usd > 0 and reuse.gpus == 1


def test_align_and_deploy_progress_come_from_their_records(store):
    from lifecycle.alignment.preferences import PREFERENCE
    from lifecycle.deploy.measure import MEASUREMENT

    project = store.create_project("Busy")
    store.put_record(project.id, PREFERENCE, {"id": "p1", "choice": "a"}, key="p1")
    store.put_record(project.id, MEASUREMENT, {"ref": "embedded:x"}, key="m1")
    status = stage_status(overview(store, project.id))
    assert status["align"] == "1 preference pairs judged"
    assert status["deploy"] == "1 variant measured"
