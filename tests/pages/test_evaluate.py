"""Evaluate page: runs on the fake model, lineage, comparison, examples, ratings, resume, shots."""

from __future__ import annotations

import re

import pytest

from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.evaluation.datasets import load_shipped
from lifecycle.evaluation.runs import (
    RUN,
    Candidate,
    continue_run,
    list_eval_runs,
    ratings,
    start_run,
)
from lifecycle.models import GenerationResult, GenParams
from lifecycle.prompting import PromptSpec
from lifecycle.tasks import load_tasks
from lifecycle.text import md_escape
from lifecycle.uploads import EVAL_SET, list_sets
from tests.fake_model import install

from .helpers import button, goto, rerun, texts

PAGE = "app_pages/evaluate.py"
SUMMARIES, ENTITIES = "dialogue_summaries", "entities"
SLICE = 3  # examples per run: three are enough to test the page
FAKE = "fake:model"  # answers from a queue (or echoes): the flows, not the weights, are tested
CANDIDATE = Keys.EVAL_CANDIDATE + "__playground__"  # + "" + the current prompt
SHOTS_CANDIDATE = Keys.EVAL_CANDIDATE + Keys.EVAL_SHOTS_PICKER + "__playground__"  # Shots tab
LABEL = "Conversation Summarization prompt"
VERDICT = re.compile(r"^(Prompting has plateaued|Examples still help) \(")
SCORES = re.compile(
    r"ROUGE\\-1 \d\.\d{3}, ROUGE\\-2 \d\.\d{3}, ROUGE\\-L \d\.\d{3}, ROUGE\\-Lsum \d\.\d{3}$"
)


@pytest.fixture(autouse=True)
def hub_off(monkeypatch):
    """The hub stays off whatever the developer's shell says."""
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)


@pytest.fixture
def fake():
    return install()


@pytest.fixture
def at(make_app, project):
    """A session on the evaluate page of a fresh project, on the shipped summaries."""
    return goto(make_app(), PAGE)


def summaries(n: int = SLICE):
    """The slice of the shipped summary set that the page evaluates."""
    return load_shipped(SUMMARIES).head(n)


def use_model(at, model, n: int = SLICE):
    """Evaluate `n` examples with `model` typed into the candidate's Model box."""
    at.slider(key=Keys.EVAL_LIMIT).set_value(n)
    at = rerun(at.selectbox(key=CANDIDATE + "model").set_value(OTHER))
    at.text_input(key=other_key(CANDIDATE + "model")).input(str(model))
    return rerun(at)


def evaluate(at, shots: int = 0):
    """Pick the number of shots and press "Evaluate this candidate"."""
    at = rerun(at.selectbox(key=CANDIDATE + "shots").set_value(shots))
    at = rerun(button(at, "Evaluate this candidate").click())
    assert not at.error, texts(at.error)
    return at


def compare_all(at, store, project):
    """Select every run in "Compare on this set" (the oldest becomes A)."""
    ids = [r.id for r in list_eval_runs(store, project.id)]
    return rerun(at.multiselect(key=Keys.EVAL_SELECTED).set_value(ids))


def examples_table(at):
    """The per-example table of the Examples tab (the one with an "A" column)."""
    [table] = [d.value for d in at.dataframe if "A" in d.value.columns]
    return table


def test_the_page_starts_empty_and_explains_benchmarks(at, store, project):
    assert texts(at.title) == ["5 · Evaluate"]
    assert at.selectbox(key=Keys.EVAL_SHIPPED).value == SUMMARIES
    assert any(c.value.startswith("60 examples · task summarization") for c in at.caption)
    assert at.slider(key=Keys.EVAL_LIMIT).value == 20
    assert "No evaluation yet: run a candidate in the Run tab." in texts(at.info)
    assert not at.get("plotly_chart") and not at.dataframe
    assert at.selectbox(key=CANDIDATE + "model").value.startswith("embedded:")
    assert store.list_records(project.id, RUN) == []
    benchmarks = at.tabs[-1]
    assert benchmarks.label == "Benchmarks"
    assert "MMLU" in "".join(m.value for m in benchmarks.markdown)


def test_evaluate_compare_read_and_rate(at, store, project, fake):
    answers = ["Alice and Bob meet at noon.", "Bob calls Alice back.", "They plan the trip."]
    fake.enqueue(*answers)
    at = evaluate(use_model(at, FAKE))
    [done] = texts(at.success)
    assert done.startswith(f"{md_escape(f'{LABEL} · 0-shot')}: ") and SCORES.search(done), done
    [record] = store.list_records(project.id, RUN)
    [first] = list_eval_runs(store, project.id)
    assert record.key == first.id and record.data["status"] == "done"
    assert first.status == "done" and first.done == first.total == SLICE
    assert sorted(first.predictions) == [e.id for e in summaries().examples]
    assert first.candidate.model_ref == FAKE and first.candidate.prompt.shots == 0
    assert sorted(p["prediction"] for p in first.predictions.values()) == sorted(answers)
    assert first.set_hash == summaries().hash and first.set_name == summaries().name
    assert set(first.scores) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}

    at = evaluate(at, shots=3)
    assert texts(at.success)[0].startswith(f"{md_escape(f'{LABEL} · 3-shot')}: ")
    first, second = list_eval_runs(store, project.id)
    assert second.status == "done" and second.candidate.prompt.shots == 3
    assert second.set_hash == first.set_hash
    three_shot = [p["prompt_tokens"] for p in second.predictions.values()]
    assert min(three_shot) > max(p["prompt_tokens"] for p in first.predictions.values())

    # Results: every run in the table, bars and distribution, a paired-bootstrap sentence.
    at = compare_all(at, store, project)
    runs = at.dataframe[0].value
    assert list(runs["Candidate"]) == [f"{LABEL} · 0-shot", f"{LABEL} · 3-shot"]
    assert list(runs["Status"]) == ["done", "done"] and list(runs["Done"]) == ["3/3"] * 2
    assert len(at.get("plotly_chart")) == 2
    verdict = [m for m in texts(at.info) + texts(at.success) if "95 % CI" in m]
    assert len(verdict) == 1 and "ROUGE\\-L" in verdict[0] and "n=3" in verdict[0], verdict

    # Examples: A and B side by side with their difference, one example in detail.
    table = examples_table(at)
    assert {"A", "B", "B - A", "A ROUGE-L", "B ROUGE-L"} <= set(table.columns)
    assert sorted(table["id"]) == sorted(first.predictions)
    assert list(table["B - A"]) == sorted(table["B - A"])  # the biggest losses of B first
    picked = at.selectbox(key=Keys.EVAL_EXAMPLE).value
    assert picked in first.predictions
    shown = "\n".join(texts(at.markdown))
    assert "**Input**" in shown and "**Reference**" in shown
    assert f"**A: {md_escape(first.candidate.label)}** · ROUGE\\-L " in shown
    assert f"**B: {md_escape(second.candidate.label)}** · ROUGE\\-L " in shown

    # A star rating is stored per run and example, and summarised under Results.
    at = rerun(at.feedback(key=f"{Keys.EVAL_RATE}{second.id}_{picked}").set_value(3))
    assert ratings(store, project.id, second.id) == {picked: 4}
    assert ratings(store, project.id, first.id) == {}
    assert "Your rating: 4/5" in texts(at.caption)
    at = rerun(at)
    [summary] = [d.value for d in at.dataframe if "Mean rating (1-5)" in d.value.columns]
    assert list(summary["Candidate"]) == [f"{LABEL} · 3-shot"]
    assert list(summary["Mean rating (1-5)"]) == [4.0]


def test_a_new_run_joins_the_comparison(at, store, project, fake):
    at = evaluate(evaluate(use_model(at, FAKE)), shots=3)
    assert len(at.multiselect(key=Keys.EVAL_SELECTED).value) == 2
    assert any("95 % CI" in m for m in texts(at.info) + texts(at.success))


def test_a_stopped_run_resumes_where_it_stopped(at, store, project, fake):
    task = load_tasks()["summarization"]
    candidate = Candidate(
        f"{LABEL} · 0-shot",
        FAKE,
        PromptSpec.for_task(task),
        GenParams(max_new_tokens=8),
        "__playground__",
    )
    run = start_run(store, project.id, candidate, summaries())
    run = continue_run(
        store,
        project.id,
        run,
        summaries(),
        lambda text: GenerationResult("Alice and Bob meet.", 20, 5, 0.1),
        should_stop=lambda: run.done >= 1,
    )
    assert run.status == "partial" and run.done == 1
    at = rerun(at.slider(key=Keys.EVAL_LIMIT).set_value(SLICE))
    resume = button(at, f"Resume {md_escape(f'{LABEL} · 0-shot')} (1/3)")
    at = rerun(resume.click())
    [again] = list_eval_runs(store, project.id)
    assert again.id == run.id and again.status == "done" and again.done == SLICE
    assert again.predictions["test-001"]["prediction"] == "Alice and Bob meet."
    assert list(at.dataframe[0].value["Done"]) == ["3/3"]
    at = rerun(at)  # the button pressed is drawn before the work it starts
    assert not [b for b in at.button if b.label.startswith("Resume")]


def test_another_sets_runs_are_not_offered_for_comparison(at, store, project, fake):
    at = evaluate(use_model(at, FAKE))
    [summary_run] = list_eval_runs(store, project.id)
    assert at.multiselect(key=Keys.EVAL_SELECTED).options == [f"{LABEL} · 0-shot [done]"]
    at = rerun(at.selectbox(key=Keys.EVAL_SHIPPED).set_value(ENTITIES))
    assert any(c.value.startswith("40 examples · task ner") for c in at.caption)
    compare = at.multiselect(key=Keys.EVAL_SELECTED)
    assert compare.options == [] and compare.value == []
    assert "Evaluate a candidate on this set to read its outputs here." in texts(at.info)
    assert not at.get("plotly_chart")
    # The runs table still lists every run, with the set it was made on.
    assert list(at.dataframe[0].value["Set"]) == [summary_run.set_name]
    assert not [b for b in at.button if b.label.startswith("Resume")]


def test_deleting_a_run_needs_a_confirmation(at, store, project, fake):
    at = evaluate(evaluate(use_model(at, FAKE)), shots=3)
    first, second = list_eval_runs(store, project.id)
    at = rerun(at.selectbox(key=Keys.EVAL_DELETE_PICK).set_value(first.id))
    assert button(at, "Delete run").disabled
    at = rerun(at.checkbox(key=Keys.EVAL_DELETE_OK).check())
    at = rerun(button(at, "Delete run").click())
    assert [r.id for r in list_eval_runs(store, project.id)] == [second.id]
    assert list(at.dataframe[0].value["Candidate"]) == [f"{LABEL} · 3-shot"]
    assert at.multiselect(key=Keys.EVAL_SELECTED).options == [f"{LABEL} · 3-shot [done]"]


def test_the_shots_curve_draws_and_gives_a_verdict(at, store, project, fake):
    at.slider(key=Keys.EVAL_SHOTS_SLICE).set_value(2)
    at = rerun(at.selectbox(key=SHOTS_CANDIDATE + "model").set_value(OTHER))
    at.text_input(key=other_key(SHOTS_CANDIDATE + "model")).input(FAKE)
    at = rerun(button(rerun(at), "Run the shots curve").click())
    assert not at.error, texts(at.error)
    [chart] = at.get("plotly_chart")
    assert "examples in the prompt (shots)" in chart.proto.spec
    [verdict] = [m for m in texts(at.info) if VERDICT.match(m)]
    assert "shots" in verdict or "before fine-tuning" in verdict
    runs = list_eval_runs(store, project.id)
    assert [r.candidate.prompt.shots for r in runs] == [0, 1, 2, 3, 5]
    assert all(r.status == "done" and r.total == 2 for r in runs)
    assert all(r.set_hash == summaries(2).hash for r in runs)
    # The curve stays on the page after an unrelated rerun.
    at = rerun(at)
    assert len(at.get("plotly_chart")) == 1
    assert [m for m in texts(at.info) if VERDICT.match(m)] == [verdict]


def test_the_llama_cpp_fast_path_is_a_candidate(at, store, project, llama_installed):
    at.slider(key=Keys.EVAL_LIMIT).set_value(2)
    at = rerun(at.selectbox(key=CANDIDATE + "model").set_value("llamacpp:embedded"))
    at = evaluate(at)
    [done] = texts(at.success)
    assert done.startswith(f"{md_escape(f'{LABEL} · 0-shot')}: ") and SCORES.search(done), done
    [run] = list_eval_runs(store, project.id)
    assert run.candidate.model_ref == "llamacpp:embedded" and run.done == run.total == 2
    assert all(p["prediction"].strip() for p in run.predictions.values())


def test_an_uploaded_set_is_added_and_can_be_picked(at, store, project):
    raw = b"question,answer,note\nhi there,hello,a\nbye now,goodbye,b\nhow are you,fine,c\n"
    at = rerun(at.file_uploader(key=Keys.EVAL_UPLOAD).set_value(("mine.csv", raw, "text/plain")))
    assert at.selectbox(key=Keys.EVAL_UP + "input").value == "question"
    assert at.selectbox(key=Keys.EVAL_UP + "output").value == "answer"
    assert "Ignored columns: note." in texts(at.caption)
    at = rerun(button(at, "Add this set").click())
    assert not at.error, texts(at.error)
    [(key, saved)] = list_sets(store, project.id, EVAL_SET).items()
    assert saved.name == "mine.csv" and [e.output for e in saved.examples][:2] == [
        "hello",
        "goodbye",
    ]
    at = rerun(at)  # the set picker is drawn above the form: the new set shows from the next run
    at = rerun(at.selectbox(key=Keys.EVAL_SHIPPED).set_value(key))
    picker = at.selectbox(key=Keys.EVAL_SHIPPED)
    assert picker.format_func(picker.value) == "Uploaded: mine.csv"


def test_a_projects_collection_is_offered_as_a_retrieval_candidate(make_app, project):
    """The vector store opens in the background (chromadb's import takes seconds: the page
    does not wait for it); once open, the project's collection is a candidate's retrieval."""
    from lifecycle.rag import ChunkSettings, Embedder, VectorStore

    meta_only = Embedder("embedded:minilm", "MiniLM", None, dimension=8, max_tokens=256)
    VectorStore().create(project.id, "Field notes", meta_only, ChunkSettings())
    at = goto(make_app(), PAGE)  # waits for the background open, then runs again
    rag = at.selectbox(key=Keys.EVAL_CANDIDATE + "rag")
    assert rag.options == ["None", "From the collection Field notes (grounded prompt)"]
