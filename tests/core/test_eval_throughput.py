"""Evaluation at the speed of the runtime: batches on transformers, concurrent endpoint requests.

No test measures time: concurrency is read from the server's own count of requests in flight,
and batching is judged by its answers (the same as one by one, up to padding noise).
"""

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.evaluation.batches import eval_width, prompt_batch_predictor
from lifecycle.evaluation.datasets import EvalSet, Example
from lifecycle.evaluation.runs import Candidate, continue_run, list_eval_runs, start_run
from lifecycle.evaluation.shots import prompt_predictor
from lifecycle.models import GenerationError, GenerationResult, GenParams, generate, load_model
from lifecycle.models.batching import MAX_WIDTH, auto_width, chunks, generate_many
from lifecycle.models.transformers_batch import MAX_BATCH, memory_width, pad_rows
from lifecycle.prompting import PromptSpec
from lifecycle.serving.openai_api import open_endpoint
from lifecycle.settings import Endpoint
from lifecycle.store import Store
from tests.echo_server import FLAKY, echo_server
from tests.fake_model import FakeModel

WORDS = (
    "the capital of france is paris . summarize the dialogue alice hi bob hello lunch at noon "
    "one two three four five six seven eight nine ten"
).split()


def _prompts(n: int, seed: int = 0) -> list[list[dict]]:
    """Chat prompts of very different lengths (2-60 words): real padding in every batch."""
    rng = random.Random(seed)
    return [
        [
            {"role": "system", "content": "you are a helpful assistant ."},
            {"role": "user", "content": " ".join(rng.choices(WORDS, k=rng.randint(2, 60)))},
        ]
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def tiny(tiny_causal):
    return load_model(str(tiny_causal))


def test_batched_greedy_answers_match_one_by_one(tiny):
    prompts, params = _prompts(24), GenParams(max_new_tokens=12)
    alone = [generate(tiny, m, params) for m in prompts]
    for width in (5, 8):
        batched = generate_many(tiny, prompts, params, width)
        assert all(isinstance(b, GenerationResult) for b in batched)
        same = sum(
            (a.text, a.completion_tokens, a.finish_reason)
            == (b.text, b.completion_tokens, b.finish_reason)
            for a, b in zip(alone, batched)
        )
        assert same >= 0.95 * len(prompts)  # padding may flip a near-tie, rarely
        assert [b.prompt_tokens for b in batched] == [a.prompt_tokens for a in alone]


def test_stop_sequences_are_cut_in_a_batch_as_in_the_stream(tiny):
    prompts, params = _prompts(4, seed=1), GenParams(max_new_tokens=12)
    first = generate(tiny, prompts[0], params).text.split()
    stop = first[len(first) // 2] if first else "the"
    params = replace(params, stop=(stop,))
    alone = [generate(tiny, m, params) for m in prompts]
    batched = generate_many(tiny, prompts, params, 4)
    for a, b in zip(alone, batched):
        assert stop not in b.text and b.text == a.text and b.finish_reason == a.finish_reason
        assert b.completion_tokens <= params.max_new_tokens
    assert batched[0].finish_reason == "stop_sequence"


def test_sampling_and_penalties_are_never_batched(tiny):
    prompts = _prompts(4, seed=2)
    for params in (
        GenParams(max_new_tokens=8, do_sample=True, seed=3),
        GenParams(max_new_tokens=8, repetition_penalty=1.3),
    ):
        assert auto_width(tiny, params) == 1
        alone = [generate(tiny, m, params).text for m in prompts]
        assert [r.text for r in generate_many(tiny, prompts, params, 4)] == alone


def test_a_prompt_that_cannot_run_gets_its_error_and_the_others_their_answers(tiny):
    prompts = _prompts(3, seed=4)
    prompts[1] = [{"role": "user", "content": "  "}]  # empty: refused by every runtime
    out = generate_many(tiny, prompts, GenParams(max_new_tokens=4), 3)
    assert isinstance(out[1], GenerationError)
    assert isinstance(out[0], GenerationResult) and isinstance(out[2], GenerationResult)


def test_the_batch_size_comes_from_free_memory_and_is_capped(tiny, monkeypatch):
    import lifecycle.models.transformers_batch as tb

    params = GenParams(max_new_tokens=64)
    monkeypatch.setattr(tb, "free_bytes", lambda device: 10**15)
    assert memory_width(tiny, params) == MAX_BATCH == auto_width(tiny, params)
    monkeypatch.setattr(tb, "free_bytes", lambda device: 1000)
    assert memory_width(tiny, params) == 1
    assert eval_width(FakeModel(), Candidate("c", "m", PromptSpec(), params), 8) == 1
    assert eval_width(tiny, Candidate("c", "m", PromptSpec(), params), 99) == MAX_WIDTH


@given(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=6), min_size=1, max_size=6))
def test_padding_keeps_every_prompt_and_marks_it(prompts):
    for left in (True, False):
        rows, masks = pad_rows(prompts, -1, left)
        assert len({len(r) for r in rows}) == 1
        for ids, row, mask in zip(prompts, rows, masks):
            assert [t for t, m in zip(row, mask) if m] == ids and sum(mask) == len(ids)


@given(st.integers(0, 40), st.integers(-2, 12))
def test_chunks_cover_the_items_in_order(n, size):
    items = list(range(n))
    parts = chunks(items, size)
    assert [i for p in parts for i in p] == items
    assert all(1 <= len(p) <= max(1, size) for p in parts)


def _set(n: int) -> EvalSet:
    examples = tuple(Example(f"e{i}", f"input {i}", f"answer {i}") for i in range(n))
    return EvalSet("tiny", "summarization", ("f1",), examples)


def _answer(text: str) -> GenerationResult:
    return GenerationResult(f"answer {text.split()[-1]}", 2, 2, 0.01, None, "eos")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 12),
    first=st.integers(1, 5),
    second=st.integers(1, 5),
    stop_after=st.integers(0, 4),
    fail_at=st.one_of(st.none(), st.integers(0, 11)),
)
def test_stop_and_resume_with_other_widths_predicts_each_example_once(
    tmp_path_factory, n, first, second, stop_after, fail_at
):
    store = Store(tmp_path_factory.mktemp("db") / "db.sqlite")
    project = store.create_project("P")
    evalset, calls, progress = _set(n), [], []

    def many(inputs):
        calls.extend(inputs)
        flaky = f"input {fail_at}"  # refused the first time only
        return [
            GenerationError("refused") if x == flaky and calls.count(x) == 1 else _answer(x)
            for x in inputs
        ]

    run = start_run(store, project.id, Candidate("c", "m", PromptSpec(), GenParams()), evalset)
    checks = []
    try:
        continue_run(
            store,
            project.id,
            run,
            evalset,
            _answer,
            lambda done, total: progress.append(done),
            should_stop=lambda: checks.append(1) or len(checks) > stop_after,
            predict_many=many,
            width=first,
        )
    except GenerationError:
        pass
    saved = list_eval_runs(store, project.id)[0]
    assert progress == list(range(1, saved.done + 1))  # per example, never past what is stored
    assert saved.done <= min(n, stop_after * first)
    for _ in range(2):  # a refusal not reached before the stop comes now, once
        try:
            done = continue_run(
                store, project.id, saved, evalset, _answer, predict_many=many, width=second
            )
            break
        except GenerationError:
            saved = list_eval_runs(store, project.id)[0]
    assert done.status == "done" and done.scores["f1"] == 1.0
    for example in evalset.examples:  # each answered once; only a refused one is asked again
        assert calls.count(example.input) == (2 if example.input == f"input {fail_at}" else 1)


def _one_by_one(store: Store, project_id: str, lm, cand: Candidate, evalset: EvalSet):
    """A whole evaluation run, one example at a time."""
    run = start_run(store, project_id, cand, evalset)
    return continue_run(store, project_id, run, evalset, prompt_predictor(lm, cand))


def test_a_batched_run_on_the_tiny_model_stops_and_resumes(tiny, tiny_causal, tmp_path):
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("P")
    cand = Candidate(
        "c", str(tiny_causal), PromptSpec(template="{input}"), GenParams(max_new_tokens=6)
    )
    evalset = _set(7)
    one_by_one = _one_by_one(store, project.id, tiny, cand, evalset)
    batch = prompt_batch_predictor(tiny, cand, 3)
    run = start_run(store, project.id, cand, evalset)
    checks = []
    run = continue_run(
        store,
        project.id,
        run,
        evalset,
        prompt_predictor(tiny, cand),
        should_stop=lambda: checks.append(1) or len(checks) > 1,
        predict_many=batch,
        width=3,
    )
    assert run.status == "partial" and run.done == 3
    saved = next(r for r in list_eval_runs(store, project.id) if r.id == run.id)
    run = continue_run(
        store,
        project.id,
        saved,
        evalset,
        prompt_predictor(tiny, cand),
        predict_many=prompt_batch_predictor(tiny, cand, 4),
        width=4,
    )
    assert run.status == "done"
    same = sum(
        run.predictions[i]["prediction"] == one_by_one.predictions[i]["prediction"]
        for i in one_by_one.predictions
    )
    assert same >= 0.95 * len(evalset.examples)


def test_an_endpoint_answers_concurrently_in_order_and_retries():
    with echo_server(delay_s=0.2) as server:
        ep = Endpoint("echo", server.url, "m", retries=2, timeout_s=10)
        lm = open_endpoint(ep)
        texts = [f"question {i}" for i in range(8)] + [f"{FLAKY} one"]
        prompts = [[{"role": "user", "content": t}] for t in texts]
        out = generate_many(lm, prompts, GenParams(max_new_tokens=8), 8)
        assert [r.text for r in out] == [f"echo: {t}" for t in texts]  # in the prompts' order
        assert server.most_in_flight > 1  # several requests were in flight at once
        assert server.seen.count(f"{FLAKY} one") == 2  # refused once (503), then answered
        assert auto_width(lm, GenParams()) > 1
        server.most_in_flight = 0
        generate_many(lm, prompts[:4], GenParams(max_new_tokens=8), 1)
        assert server.most_in_flight == 1  # concurrency 1: one at a time


def test_an_endpoint_that_keeps_refusing_gives_each_example_its_error():
    with echo_server() as server:
        lm = open_endpoint(Endpoint("echo", server.url, "m", retries=0, timeout_s=10))
        prompts = [[{"role": "user", "content": t}] for t in ("fine", f"{FLAKY} two", "also")]
        out = generate_many(lm, prompts, GenParams(max_new_tokens=8), 4)
        assert out[0].text == "echo: fine" and out[2].text == "echo: also"
        assert isinstance(out[1], GenerationError) and "503" in str(out[1])


def test_a_llamacpp_candidate_is_evaluated_by_llamacpp_one_at_a_time(llama_installed, tmp_path):
    from lifecycle.serving.llamacpp import LlamaCppModel, load_llamacpp

    lm = load_llamacpp()
    params = GenParams(max_new_tokens=8)
    cand = Candidate("c", "llamacpp:embedded", PromptSpec(template="{input}"), params)
    assert isinstance(lm, LlamaCppModel) and eval_width(lm, cand, 8) == 1
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("P")
    evalset = _set(2)
    run = continue_run(
        store,
        project.id,
        start_run(store, project.id, cand, evalset),
        evalset,
        prompt_predictor(lm, cand),
        predict_many=prompt_batch_predictor(lm, cand, 8),
        width=8,
    )
    alone = [prompt_predictor(lm, cand)(e.input).text.strip() for e in evalset.examples]
    assert [run.predictions[e.id]["prediction"] for e in evalset.examples] == alone


def test_the_shots_curve_runs_in_batches_with_the_answers_of_one_by_one(
    tiny, tiny_causal, tmp_path, monkeypatch
):
    import lifecycle.evaluation.batches as batches
    from lifecycle.evaluation.shots import shots_curve
    from lifecycle.tasks import load_tasks

    widths: list[int] = []
    real = batches.generate_many
    monkeypatch.setattr(
        batches, "generate_many", lambda lm, b, p, w: widths.append(w) or real(lm, b, p, w)
    )
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("P")
    rng = random.Random(5)  # inputs of very different lengths: real padding in every batch
    examples = tuple(
        Example(f"e{i}", " ".join(rng.choices(WORDS, k=rng.randint(2, 40))), "alice and bob")
        for i in range(10)
    )
    evalset = EvalSet("tiny", "summarization", ("rouge",), examples)
    task = load_tasks()["summarization"]
    base = Candidate(
        "kit", str(tiny_causal), PromptSpec.for_task(task), GenParams(max_new_tokens=8)
    )
    curves = {}
    for width in (1, 0):  # one by one, then the runtime's own width (what the page uses)
        widths.clear()
        points = shots_curve(
            store, project.id, tiny, base, evalset, "rougeL", (0, 1, 3), width=width
        )
        runs = {r.id: r for r in list_eval_runs(store, project.id)}
        curves[width] = [runs[p.run_id].predictions for p in points]
        assert (widths == []) if width == 1 else (widths and min(widths) > 1)
    pairs = [
        (alone[i]["prediction"], batched[i]["prediction"])
        for alone, batched in zip(curves[1], curves[0])
        for i in alone
    ]
    assert len(pairs) == 30 and sum(a == b for a, b in pairs) >= 0.95 * len(pairs)


def test_llamacpp_evaluation_answers_as_raw_llama_cpp_reading_each_prompt_afresh(
    llama_installed, tmp_path, monkeypatch
):
    """Our path keeps the prompts' shared prefix in the KV cache; the answers must not change."""
    from llama_cpp import Llama

    import lifecycle.serving.llamacpp as llamacpp
    from lifecycle.evaluation.datasets import load_shipped
    from lifecycle.models.sources import embedded_gguf
    from lifecycle.prompting import fit_prompt
    from lifecycle.tasks import load_tasks

    reused: list[int] = []
    real = llamacpp.cached_prefix
    monkeypatch.setattr(
        llamacpp, "cached_prefix", lambda llm, ids: reused.append(real(llm, ids)) or reused[-1]
    )
    shipped = load_shipped("dialogue_summaries", "test").head(3)
    again = Example("again", shipped.examples[0].input, shipped.examples[0].output)
    evalset = EvalSet(
        "three and a repeat",
        shipped.task_id,
        shipped.metrics,
        (shipped.examples[0], again, *shipped.examples[1:]),
    )
    params = GenParams(max_new_tokens=24)
    for shots in (0, 1):
        prompt = replace(PromptSpec.for_task(load_tasks()[shipped.task_id]), shots=shots)
        cand = Candidate("c", "llamacpp:embedded", prompt, params)
        lm = llamacpp.load_llamacpp("embedded", threads=2)
        store = Store(tmp_path / f"{shots}.sqlite")
        project = store.create_project("P")
        run = _one_by_one(store, project.id, lm, cand, evalset)
        raw = Llama(model_path=str(embedded_gguf()), n_ctx=8192, n_threads=2, verbose=False)
        try:
            for example in evalset.examples:
                raw.reset()  # the whole prompt read afresh, as before any prefix was kept
                messages = fit_prompt(lm, prompt, {"input": example.input}, params).messages
                out = raw.create_chat_completion(
                    messages=messages,
                    max_tokens=24,
                    temperature=0.0,
                    top_k=1,
                    top_p=1.0,
                    repeat_penalty=1.0,
                    seed=params.seed,
                )
                text = out["choices"][0]["message"]["content"].strip()
                assert run.predictions[example.id]["prediction"] == text, (shots, example.id)
                assert run.predictions[example.id]["prompt_tokens"] == out["usage"]["prompt_tokens"]
        finally:
            raw.close()
            lm.llm.close()
    assert max(reused) > 20  # the instruction's tokens were kept between examples
