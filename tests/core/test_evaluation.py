"""Evaluation: metric parity with the raw libraries, bootstrap, sets and uploads, runs."""

import numpy as np
import pytest
import sacrebleu
from rouge_score import rouge_scorer

from lifecycle.evaluation.datasets import (
    MAX_ROW_CHARS,
    DatasetError,
    EvalSet,
    Example,
    load_shipped,
    read_table,
    shipped_index,
    to_set,
)
from lifecycle.evaluation.metrics import aggregate, score
from lifecycle.evaluation.runs import (
    Candidate,
    EvalError,
    compare,
    continue_run,
    delete_eval_run,
    list_eval_runs,
    rate,
    ratings,
    start_run,
    unsupported,
)
from lifecycle.evaluation.shots import ShotPoint, plateau_verdict, prompt_predictor, shots_curve
from lifecycle.evaluation.stats import bootstrap_interval, paired_bootstrap
from lifecycle.models import GenerationResult, GenParams, load_model
from lifecycle.prompting import PromptSpec
from lifecycle.store import Store
from lifecycle.tasks import load_tasks

PREDS = ["the cat sat on the mat", "Tom moves the meeting to 7 pm", "", "Paris"]
REFS = ["a cat sat on a mat", "Tom and Anna meet at 7 instead of 6", "nothing here", "paris"]


def test_rouge_matches_rouge_score_exactly():
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    raw = [scorer.score(r, p) for p, r in zip(PREDS, REFS)]
    ours = score("rouge", PREDS, REFS)
    for key in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert ours[key] == [s[key].fmeasure for s in raw]
        assert aggregate("rouge", PREDS, REFS)[key] == pytest.approx(np.mean(ours[key]))


def test_bleu_and_chrf_match_sacrebleu():
    assert (
        aggregate("bleu", PREDS, REFS)["bleu"] == sacrebleu.corpus_bleu(PREDS, [REFS]).score / 100
    )
    assert (
        aggregate("chrf", PREDS, REFS)["chrf"] == sacrebleu.corpus_chrf(PREDS, [REFS]).score / 100
    )
    assert score("bleu", PREDS, REFS)["bleu"] == [
        sacrebleu.sentence_bleu(p, [r]).score / 100 for p, r in zip(PREDS, REFS)
    ]


def test_exact_match_f1_and_accuracy_follow_squad_rules():
    assert score("exact_match", ["The Paris!", "London"], ["paris", "Paris"])["exact_match"] == [
        1,
        0,
    ]
    f1 = score("f1", ["in the year 1889", "no"], ["1889", "yes"])["f1"]
    assert f1 == [pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1)), 0.0]  # SQuAD: 'the' dropped
    assert score("accuracy", ["Positive.\nBecause...", "neg"], ["positive", "positive"])[
        "accuracy"
    ] == [1.0, 0.0]


def test_bootstrap_on_a_constructed_case():
    same = paired_bootstrap([0.5] * 50, [0.5] * 50)
    assert same.mean == 0 and not same.significant
    better = paired_bootstrap([0.2] * 30 + [0.3] * 30, [0.4] * 30 + [0.5] * 30)
    assert better.mean == pytest.approx(0.2) and better.significant
    assert better.low == pytest.approx(0.2) and better.high == pytest.approx(0.2)
    noisy = paired_bootstrap([0.0, 1.0] * 10, [1.0, 0.0] * 10)
    assert noisy.low < 0 < noisy.high and "No significant difference" in noisy.verdict(
        "A", "B", "f1"
    )
    few = paired_bootstrap([0.1, 0.2, 0.3], [0.5, 0.6, 0.7])  # all three better, yet n=3
    assert not few.significant and "Too few examples" in few.verdict("A", "B", "f1")
    interval = bootstrap_interval([0.0, 1.0] * 50)
    assert interval.mean == 0.5 and 0.39 < interval.low < 0.5 < interval.high < 0.61


def test_shipped_sets_are_complete():
    sizes = {d["id"]: d for d in shipped_index()}
    summaries = load_shipped("dialogue_summaries", "test")
    assert len(summaries.examples) >= 60 and summaries.metrics == ("rouge",)
    assert len(load_shipped("dialogue_summaries", "train").examples) >= 200
    for set_id in sizes:
        evalset = load_shipped(set_id)
        assert evalset.task_id in load_tasks()
        assert all(e.input.strip() and e.output.strip() for e in evalset.examples)
        assert len({e.id for e in evalset.examples}) == len(evalset.examples)


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (b"", "x.csv", "empty"),
        (b"\xff\xfe\x00\x01", "x.csv", "not UTF-8"),
        (b"input,output\n", "x.csv", "no rows"),
        (b'{"input": "a"\n', "x.jsonl", "not valid JSON"),
        (b"[1, 2]\n", "x.jsonl", "JSON object"),
        (b"input,output\n" + b"x" * (MAX_ROW_CHARS + 10) + b",y\n", "x.csv", "characters"),
    ],
)
def test_bad_uploads_are_refused(raw, name, message):
    with pytest.raises(DatasetError, match=message):
        read_table(raw, name)


def test_upload_mapping_checks_columns_and_references():
    rows = read_table(b"text,summary,extra\nhello,hi,1\nbye,bye now,2\n", "x.csv")
    evalset = to_set(rows, "text", "summary", "mine", "summarization", ("rouge",))
    assert [e.input for e in evalset.examples] == ["hello", "bye"]
    with pytest.raises(DatasetError, match="missing"):
        to_set(rows, "text", "label", "mine", "summarization", ("rouge",))
    empty = read_table(b'{"i": "a", "o": ""}\n{"i": "b", "o": "x"}\n', "x.jsonl")
    with pytest.raises(DatasetError, match="empty reference"):
        to_set(empty, "i", "o", "mine", "summarization", ("rouge",))


def _set(n=4):
    examples = tuple(Example(f"e{i}", f"one two {i}", f"answer {i}") for i in range(n))
    return EvalSet("tiny", "summarization", ("rouge", "f1"), examples)


def test_a_run_on_the_tiny_model_end_to_end_stops_and_resumes(tiny_causal, tmp_path):
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("P")
    lm = load_model(str(tiny_causal))
    cand = Candidate(
        "zero-shot", str(tiny_causal), PromptSpec(template="{input}"), GenParams(max_new_tokens=6)
    )
    evalset = _set()
    run = start_run(store, project.id, cand, evalset)
    calls = []
    run = continue_run(
        store,
        project.id,
        run,
        evalset,
        prompt_predictor(lm, cand),
        should_stop=lambda: len(calls) >= 2,
        on_progress=lambda done, total: calls.append(done),
    )
    assert run.status == "partial" and run.done == 2 and set(run.per_example["f1"]) == {"e0", "e1"}
    saved = list_eval_runs(store, project.id)[0]
    assert saved.done == 2  # what was scored is kept in the store
    run = continue_run(store, project.id, saved, evalset, prompt_predictor(lm, cand))
    assert run.status == "done" and run.done == 4
    assert set(run.scores) == {"rouge1", "rouge2", "rougeL", "rougeLsum", "f1"}
    assert list_eval_runs(store, project.id)[0].to_dict() == run.to_dict()  # store round trip
    rate(store, project.id, run.id, "e1", 4)
    assert ratings(store, project.id, run.id) == {"e1": 4}
    delete_eval_run(store, project.id, run.id)
    assert list_eval_runs(store, project.id) == [] and ratings(store, project.id, run.id) == {}


def _fake(text):
    return lambda _input: GenerationResult(text, 3, 2, 0.01, 0.005, "eos")


def test_comparing_runs_on_different_sets_is_refused(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("P")
    cand = Candidate("c", "m", PromptSpec(), GenParams())
    a = continue_run(
        store, project.id, start_run(store, project.id, cand, _set(4)), _set(4), _fake("answer 1")
    )
    b = continue_run(
        store, project.id, start_run(store, project.id, cand, _set(3)), _set(3), _fake("answer 1")
    )
    with pytest.raises(EvalError, match="same set"):
        compare(a, b, "f1")
    c = continue_run(
        store,
        project.id,
        start_run(store, project.id, cand, _set(4)),
        _set(4),
        _fake("something else"),
    )
    assert compare(c, a, "f1").mean > 0


def test_shots_curve_and_verdict(tiny_causal, tmp_path):
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("P")
    task = load_tasks()["summarization"]
    base = Candidate(
        "kit", str(tiny_causal), PromptSpec.for_task(task), GenParams(max_new_tokens=4)
    )
    points = shots_curve(
        store, project.id, load_model(str(tiny_causal)), base, _set(2), "rougeL", shots=(0, 1, 3)
    )
    assert [p.shots for p in points] == [0, 1, 3]
    assert points[0].prompt_tokens < points[1].prompt_tokens < points[2].prompt_tokens
    assert len(list_eval_runs(store, project.id)) == 3
    flat = [ShotPoint(k, 0.30, 100 * (k + 1), 0.05 * (k + 1), "") for k in (0, 1, 2, 3, 5)]
    assert "plateaued" in plateau_verdict(flat)
    rising = [ShotPoint(k, 0.1 * k, 10, 0.01, "") for k in (0, 1, 2, 3, 5)]
    assert "still help" in plateau_verdict(rising)


def test_unsupported_facts_are_flagged():
    source = "Anna: meet at 6 at the cafe?\nTom: yes, 6 works."
    assert unsupported(source, "Anna and Tom meet at 7 with Bob.") == ["7", "Bob"]
    assert unsupported(source, "Anna and Tom meet at 6.") == []
