"""Fine-tune jobs on a tiny model: training, stop and resume, crash recovery, queue, registry."""

from __future__ import annotations

import os
import signal
import time

import pytest

from lifecycle.evaluation.datasets import Example
from lifecycle.finetune import jobs, worker
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import DataError, training_examples
from lifecycle.finetune.merge import merge_run
from lifecycle.finetune.runs import (
    RUN,
    create_run,
    delete_run,
    latest_checkpoint,
    list_runs,
    read_run,
    samples,
)
from lifecycle.models import GenParams, generate, load_model
from lifecycle.store import Store

EXAMPLES = [
    Example(str(i), f"alice: hi bob ! bob: lunch at noon ? {i}", "the capital of france is paris .")
    for i in range(12)
]


@pytest.fixture
def store(isolated_home):
    s = Store(isolated_home / "lifecycle.sqlite")
    s.create_project("Demo", project_id="p1")
    return s


STOP_AT = 6  # 10 training examples in batches of 4: three steps an epoch, so two epochs


def config(tiny_causal, **kw) -> FinetuneConfig:
    """Small, fast settings on the tiny model (a high rate so the loss visibly falls)."""
    base = dict(
        base_ref=str(tiny_causal),
        max_len=2048,
        batch_size=4,
        learning_rate=5e-3,
        max_steps=12,
        eval_every=4,
        save_every=4,
        samples=2,
        sample_tokens=4,
    )
    return FinetuneConfig(**{**base, **kw})


def new_run(store, cfg):
    return create_run(store, "p1", cfg, EXAMPLES[:10], EXAMPLES[10:], {"name": "tiny", "hash": "h"})


def losses(run) -> list[float]:
    return [m["loss"] for m in read_run(run.folder).metrics if "loss" in m]


def wait(run, states, timeout=900.0):
    """Poll the run folder until its state is one of `states`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        current = read_run(run.folder)
        if current.status.state in states:
            return current
        time.sleep(0.2)
    raise AssertionError(f"{run.id} still {read_run(run.folder).status.state}")


@pytest.mark.parametrize("method", ["lora", "full"])
def test_a_job_trains_the_loss_falls_and_the_result_loads(store, tiny_causal, method):
    run = new_run(store, config(tiny_causal, method=method))
    assert worker.main(run.folder) == 0
    done = read_run(run.folder)
    assert done.status.state == "completed" and done.status.step == 12
    assert losses(run)[-1] < losses(run)[0]
    assert [m for m in done.metrics if "eval_loss" in m]  # validation loss every 4 steps
    assert {s["step"] for s in samples(run.folder)} == {0, 4, 8, 12}
    if method == "lora":
        assert 0 < done.status.trainable < done.status.total_params
        assert (run.final_folder / "adapter_model.safetensors").is_file()
    else:
        assert done.status.trainable == done.status.total_params
        assert (run.final_folder / "model.safetensors").is_file()
    assert store.get_record("p1", RUN, run.id).data["state"] == "completed"
    lm = load_model(run.ref)
    reply = generate(
        lm,
        [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}],
        GenParams(max_new_tokens=3),
    )
    assert reply.completion_tokens >= 1


@pytest.mark.slow
def test_stop_then_resume_matches_an_uninterrupted_run(store, tiny_causal):
    cfg = config(tiny_causal, max_steps=12, eval_every=50, save_every=50, samples=0)
    straight = new_run(store, cfg)
    worker.main(straight.folder)

    run = new_run(store, cfg)
    jobs.stop_at(run, STOP_AT)  # asked before it starts: the stop lands on a known step
    run = jobs.submit(store, run)
    assert run.status.state == "running" and run.status.pid > 0
    stopped = wait(run, ("stopped",))
    assert stopped.status.step == STOP_AT and stopped.status.attempts == 1
    assert latest_checkpoint(run.folder).name == f"checkpoint-{STOP_AT}"  # saved by the stop

    jobs.resume(store, stopped)
    done = wait(run, ("completed",))
    assert done.status.step == 12 and done.status.attempts == 2
    # Same seed, same data order, optimizer and RNG restored: the same end point. Identical up
    # to the stop; after it, the same path within noise (a fresh process draws the rest of the
    # epoch's length-grouped order anew; the stop is at an epoch's end to keep that small).
    assert losses(run)[:STOP_AT] == pytest.approx(losses(straight)[:STOP_AT], rel=1e-6)
    assert losses(run)[-1] == pytest.approx(losses(straight)[-1], rel=1e-2)


@pytest.mark.slow
def test_a_killed_job_is_interrupted_and_resumes_from_its_checkpoint(store, tiny_causal):
    cfg = config(tiny_causal, max_steps=80, eval_every=100, save_every=5, samples=0)
    run = jobs.submit(store, new_run(store, cfg))
    while latest_checkpoint(run.folder) is None:
        time.sleep(0.1)
    os.killpg(run.status.pid, signal.SIGKILL)
    time.sleep(0.5)
    crashed = jobs.current_status(store, read_run(run.folder))
    assert (
        crashed.status.state == "interrupted" and "ended without reporting" in crashed.status.error
    )
    assert store.get_record("p1", RUN, run.id).data["state"] == "interrupted"
    checkpoint = int(latest_checkpoint(run.folder).name.split("-")[1])
    jobs.resume(store, crashed)
    done = wait(run, ("completed",))
    assert done.status.step == 80
    assert min(m["step"] for m in done.metrics if m["step"] > checkpoint) == checkpoint + 1


@pytest.mark.slow
def test_a_second_job_waits_in_the_queue_then_runs(store, tiny_causal):
    first = jobs.submit(store, new_run(store, config(tiny_causal, max_steps=60, samples=0)))
    second = jobs.submit(store, new_run(store, config(tiny_causal, max_steps=4, samples=0)))
    assert first.status.state == "running" and second.status.state == "queued"
    assert jobs.queue_position(store, second) == 1
    wait(first, ("completed",))
    assert wait(second, ("completed",)).status.step == 4  # the first worker started it


@pytest.mark.slow
def test_a_crash_inside_training_fails_with_the_reason_and_the_app_lives_on(store, tiny_causal):
    run = new_run(store, config(tiny_causal, base_ref=str(tiny_causal / "missing")))
    run = jobs.submit(store, run)
    failed = wait(run, ("failed",))
    assert "There is no folder at" in failed.status.error
    assert jobs.current_status(store, failed).status.state == "failed"


def test_registry_lists_merges_and_deletes(store, tiny_causal):
    run = new_run(store, config(tiny_causal, max_steps=2, samples=0))
    worker.main(run.folder)
    [listed] = list_runs("p1")
    assert listed.id == run.id and listed.dataset == {
        "name": "tiny",
        "hash": "h",
        "train": 10,
        "validation": 2,
    }
    assert list_runs("other") == []
    merged = merge_run(listed)
    assert (merged / "model.safetensors").is_file() and not (
        merged / "adapter_config.json"
    ).exists()
    assert (
        load_model(str(merged)).parameters
        == load_model(run.ref).parameters - listed.status.trainable
    )
    delete_run(store, listed)
    assert list_runs("p1") == [] and store.get_record("p1", RUN, run.id) is None


@pytest.mark.slow
def test_impossible_lora_targets_fail_the_job_with_the_reason(store, tiny_causal):
    run = new_run(store, config(tiny_causal, target_modules=("no_such_layer",)))
    failed = wait(jobs.submit(store, run), ("failed",))
    assert failed.status.error.startswith("LoRA cannot wrap these target modules")
    assert jobs.current_status(store, failed).status.state == "failed"


def test_settings_and_mappings_are_checked():
    with pytest.raises(DataError, match="learning rate must be positive"):
        FinetuneConfig(base_ref="x", learning_rate=0).check()
    with pytest.raises(DataError, match="Epochs must be above 0"):
        FinetuneConfig(base_ref="x", epochs=0).check()
    with pytest.raises(DataError, match="Choose a base model"):
        FinetuneConfig().check()
    rows = [{"instruction": "Summarize", "input": "a: hi", "output": "hi"}]
    [ex] = training_examples(rows, "columns", ["instruction", "input"], "output")
    assert ex.input == "Summarize\n\na: hi" and ex.output == "hi"
    with pytest.raises(DataError, match="missing: answer"):
        training_examples(rows, "columns", ["input"], "answer")
    chat = [
        {"messages": '[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]'}
    ]
    assert training_examples(chat, "messages")[0].input == "q"
    with pytest.raises(DataError, match="not a JSON list"):
        training_examples([{"messages": "{oops"}], "messages")
