"""DPO run: created like a fine-tune run, trained in-process on a tiny model, stopped, resumed."""

import json

import pytest

from lifecycle.alignment.dpo import (
    MIN_PAIRS,
    VALIDATION_FILE,
    create_dpo_run,
    dpo_config,
    read_pairs,
    train_dpo,
)
from lifecycle.alignment.preferences import Preference, Side
from lifecycle.finetune.data import DataError
from lifecycle.finetune.runs import RUN, STOP_FILE, read_run, read_status, run_folder, write_status
from lifecycle.models import GenParams, generate, load_model
from lifecycle.store import Store

SYSTEM = {"role": "system", "content": "you are a helpful assistant ."}
GOOD, BAD = "the capital of france is paris .", "one two three four five six"


def prefs(n: int, choice: str = "a") -> list[Preference]:
    """Pairs on tiny-vocabulary prompts where the same answer is always preferred."""
    return [
        Preference(
            f"p{i}",
            f"alice: hi bob ! {i}",
            Side(GOOD),
            Side(BAD),
            choice,
            messages=(SYSTEM, {"role": "user", "content": f"alice: hi bob ! {i}"}),
        )
        for i in range(n)
    ]


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "db.sqlite")


def config(tiny_causal, **kw):
    settings = dict(max_steps=4, batch_size=2, eval_every=2, save_every=2, val_share=0.2)
    settings.update(samples=1, sample_tokens=4, max_len=256, learning_rate=1e-3)
    return dpo_config(str(tiny_causal), "summarization", beta=0.2, **{**settings, **kw})


def test_a_dpo_run_logs_rewards_and_saves_a_loadable_adapter(store, tiny_causal):
    project = store.create_project("Align")
    run = create_dpo_run(store, project.id, str(tiny_causal), prefs(10), config(tiny_causal))
    assert run.config.method == "dpo" and run.config.extra["beta"] == 0.2
    assert run.id.startswith("dpo-") and run.status.state == "queued"
    train, held = read_pairs(run.folder), read_pairs(run.folder, VALIDATION_FILE)
    assert (len(train), len(held)) == (8, 2) and run.dataset["train"] == 8
    assert run.dataset["set_id"] == "dialogue_summaries"  # evaluated on its unseen test split
    assert train[0]["prompt"][0] == SYSTEM and train[0]["chosen"][0]["content"] == GOOD
    assert train[0]["rejected"] == [{"role": "assistant", "content": BAD}]
    assert store.get_record(project.id, RUN, run.id).data["method"] == "dpo"

    assert train_dpo(read_run(run.folder)) == "completed"
    done = read_run(run.folder)
    steps = [m for m in done.metrics if "loss" in m]
    assert [m["step"] for m in steps] == [1, 2, 3, 4]
    assert all({"rewards/margins", "rewards/accuracies"} <= m.keys() for m in steps)
    evals = [m for m in done.metrics if "eval_loss" in m]
    assert evals and "eval_rewards/accuracies" in evals[-1]
    # The policy learns to prefer GOOD: the margin grows from 0 (policy == reference at step 1).
    assert steps[0]["rewards/margins"] == pytest.approx(0.0, abs=1e-4)
    assert steps[-1]["rewards/margins"] > 0.0
    assert done.status.step == 4 and 0 < done.status.trainable < done.status.total_params
    samples = [json.loads(line) for line in (run.folder / "samples.jsonl").open()]
    assert {s["step"] for s in samples} == {0, 2, 4}

    adapter = json.loads((run.folder / "final" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(tiny_causal)
    tuned = load_model(run.ref)
    assert tuned.kind == "adapter"
    messages = [SYSTEM, {"role": "user", "content": "alice: hi bob ! 3"}]
    assert generate(tuned, messages, GenParams(max_new_tokens=4)).completion_tokens >= 1


def test_a_stop_request_saves_a_checkpoint_and_the_run_resumes(store, tiny_causal):
    project = store.create_project("Align")
    run = create_dpo_run(
        store, project.id, str(tiny_causal), prefs(8), config(tiny_causal, val_share=0.0)
    )
    (run.folder / STOP_FILE).touch()  # checked after every step: stops after the first
    assert train_dpo(read_run(run.folder)) == "stopped"
    assert read_status(run.folder).step == 1 and not (run.folder / "final").exists()
    assert (run.folder / "checkpoints" / "checkpoint-1").is_dir()

    (run.folder / STOP_FILE).unlink()
    status = read_status(run.folder)
    status.resume = True
    write_status(run.folder, status)
    assert train_dpo(read_run(run.folder)) == "completed"
    assert read_status(run.folder).step == 4 and (run.folder / "final").is_dir()
    assert read_pairs(run.folder, VALIDATION_FILE) == []


def test_too_few_pairs_all_ties_or_a_bad_beta_are_refused_before_anything_is_written(
    store, tiny_causal
):
    project = store.create_project("Align")
    few = prefs(MIN_PAIRS - 3) + prefs(4, choice="tie")
    with pytest.raises(DataError, match=f"there are {MIN_PAIRS - 3}. Collect 3 more"):
        create_dpo_run(store, project.id, str(tiny_causal), few, config(tiny_causal))
    with pytest.raises(DataError, match="there are 0"):
        create_dpo_run(store, project.id, str(tiny_causal), prefs(9, "tie"), config(tiny_causal))
    flat = dpo_config(str(tiny_causal), "summarization", beta=0.0)
    with pytest.raises(DataError, match="Beta must be above 0"):
        create_dpo_run(store, project.id, str(tiny_causal), prefs(10), flat)
    assert store.list_records(project.id, RUN) == []
    assert not list((isolated_runs := run_folder("x").parent).glob("dpo-*")), isolated_runs


@pytest.mark.slow
def test_the_worker_process_runs_a_dpo_job(store, tiny_causal, isolated_home):
    """The job runner dispatches on the method: a DPO run trains as DPO in its own process."""
    from lifecycle.finetune import jobs

    project = store.create_project("Align")
    home_store = Store(isolated_home / "lifecycle.sqlite")
    home_store.create_project("Align", project_id=project.id)
    run = create_dpo_run(home_store, project.id, str(tiny_causal), prefs(10), config(tiny_causal))
    run = jobs.submit(home_store, run)
    import time

    end = time.monotonic() + 900
    while read_run(run.folder).status.state in jobs.ACTIVE and time.monotonic() < end:
        time.sleep(0.3)
    done = read_run(run.folder)
    assert done.status.state == "completed", done.status.error
    assert any("rewards/chosen" in m or "loss" in m for m in done.metrics)
    assert (done.final_folder / "adapter_model.safetensors").is_file()
    assert home_store.get_record(project.id, RUN, run.id).data["method"] == "dpo"
