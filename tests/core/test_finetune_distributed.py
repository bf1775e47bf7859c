"""Multi-process fine-tuning: a real 2-rank torchrun job, stop and kill, limits, commands."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from lifecycle.evaluation.datasets import Example
from lifecycle.finetune import distributed, jobs
from lifecycle.finetune.config import FinetuneConfig
from lifecycle.finetune.data import DataError
from lifecycle.finetune.runs import RUN, create_run, latest_checkpoint, read_run, samples
from lifecycle.store import Store
from tests.sockets import is_loopback, listening, process_tree

EXAMPLES = [
    Example(str(i), f"alice: hi bob ! bob: lunch at noon ? {i}", "the capital of france is paris .")
    for i in range(12)
]
two_cores = pytest.mark.skipif(
    distributed.machine_limit()[0] < 2, reason="a 2-process run needs 2 cores or GPUs"
)


@pytest.fixture
def store(isolated_home):
    s = Store(isolated_home / "lifecycle.sqlite")
    s.create_project("Demo", project_id="p1")
    return s


def submit(store, tiny_causal, **kw):
    """Queue a 2-process LoRA job on the tiny model; it starts at once (the machine is free)."""
    base = dict(
        base_ref=str(tiny_causal),
        max_len=2048,  # the tiny tokenizer spells the task prompt out in bytes
        batch_size=2,
        learning_rate=5e-3,
        max_steps=6,
        eval_every=3,
        save_every=3,
        samples=1,
        sample_tokens=4,
        processes=2,
    )
    cfg = FinetuneConfig(**{**base, **kw})
    run = create_run(store, "p1", cfg, EXAMPLES[:10], EXAMPLES[10:], {"name": "tiny", "hash": "h"})
    return jobs.submit(store, run)


def wait(run, check, timeout=600.0):
    """Poll the run folder until `check(run)` holds; a failed job fails the test with its log."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        current = read_run(run.folder)
        if check(current):
            return current
        if current.status.state in ("failed", "interrupted"):
            raise AssertionError(current.status.error)
        time.sleep(0.1)
    raise AssertionError(f"{run.id} stuck at {read_run(run.folder).status}")


def rank_reports(run) -> list[dict]:
    return [json.loads((run.folder / "ranks" / f"rank{r}.json").read_text()) for r in (0, 1)]


def gone(run, timeout=60.0) -> bool:
    """True once no process of the run is left (the launcher and both ranks)."""
    end = time.monotonic() + timeout
    while distributed.run_processes(run.folder) and time.monotonic() < end:
        time.sleep(0.1)
    return not distributed.run_processes(run.folder)


@pytest.mark.slow
@two_cores
def test_two_ranks_train_together_and_end_with_identical_weights(store, tiny_causal):
    from safetensors.torch import load_file

    run = submit(store, tiny_causal)
    assert "lifecycle.finetune.launch" in Path(f"/proc/{run.status.pid}/cmdline").read_text()
    done = wait(run, lambda r: r.status.state == "completed")
    assert done.status.step == 6 and done.status.processes == done.processes == 2
    assert done.status.ranks_equal is True
    assert done.status.ranks_note.startswith("All 2 ranks ended at step 6 with identical weights")
    first, second = rank_reports(run)
    assert first["world_size"] == second["world_size"] == 2 and first["pid"] != second["pid"]
    assert first["step"] == second["step"] == 6 and first["sha256"] == second["sha256"]
    # What rank 0 saved is what both ranks hold (peft saves exactly the trainable adapters).
    saved = load_file(run.final_folder / "adapter_model.safetensors")
    assert sum(t.numel() for t in saved.values()) == first["parameters"]
    assert sum(float(t.double().sum()) for t in saved.values()) == pytest.approx(first["sum"])
    # Only rank 0 writes: one loss row per step, samples at 0 and each evaluation.
    assert [m["step"] for m in done.metrics if "loss" in m] == [1, 2, 3, 4, 5, 6]
    assert sorted(s["step"] for s in samples(run.folder)) == [0, 3, 6]
    assert done.status.ranks_note in (run.folder / "log.txt").read_text()
    assert (run.folder / "ranks" / "rank1.log").is_file()
    assert store.get_record("p1", RUN, run.id).data["ranks_equal"] is True
    assert gone(run)


@pytest.mark.slow
@two_cores
def test_a_stop_reaches_every_rank_and_a_kill_ends_them_all(store, tiny_causal):
    run = submit(store, tiny_causal, max_steps=4000, eval_every=4000, save_every=4000, samples=0)
    wait(run, lambda r: r.status.step >= 3)
    jobs.stop(store, read_run(run.folder))
    stopped = wait(run, lambda r: r.status.state == "stopped")
    # Both ranks stopped at the same step (else one would wait for the other forever).
    first, second = rank_reports(run)
    assert first["step"] == second["step"] == stopped.status.step and stopped.status.ranks_equal
    assert latest_checkpoint(run.folder).name == f"checkpoint-{stopped.status.step}"
    assert gone(run)

    jobs.resume(store, stopped)
    wait(run, lambda r: r.status.state == "running" and r.status.step > stopped.status.step)
    assert len(distributed.run_processes(run.folder)) == 3  # torchrun and its two ranks
    jobs.kill(read_run(run.folder), store)
    assert gone(run, timeout=60.0)
    killed = jobs.current_status(store, read_run(run.folder)).status
    assert killed.state == "stopped" and killed.note.startswith("Force-stopped by you at step")


@pytest.mark.slow
@two_cores
def test_no_socket_of_a_job_listens_beyond_loopback(store, tiny_causal):
    run = submit(store, tiny_causal, max_steps=4000, eval_every=4000, save_every=4000, samples=0)
    seen: set[tuple[str, int]] = set()
    try:
        end = time.monotonic() + 600  # generous: a loaded machine
        while time.monotonic() < end:
            for pid in distributed.run_processes(run.folder):  # the launcher and both ranks
                seen |= listening(process_tree(pid))
            current = read_run(run.folder)
            if current.status.state in ("failed", "interrupted", "completed"):
                raise AssertionError(f"ended early: {current.status}")
            if current.status.step >= 2:  # both ranks' process group has trained together
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"{run.id} stuck at {read_run(run.folder).status}")
    finally:
        jobs.kill(read_run(run.folder))
    assert gone(run)
    assert seen, "no listening socket seen: the rendezvous store must have one"
    assert all(is_loopback(host) for host, _ in seen), sorted(seen)


def test_more_processes_than_the_machine_allows_are_refused_clearly(store, monkeypatch):
    monkeypatch.setenv("LIFECYCLE_DEVICE", "cpu")
    limit, what = distributed.machine_limit()
    assert what == f"{limit} CPU core{'s' if limit > 1 else ''}"
    too_many = FinetuneConfig(base_ref="x", processes=limit + 1)
    too_many.check()  # a saved config is valid anywhere: the machine is checked at launch
    with pytest.raises(DataError, match=f"^This machine has {what}: at most {limit} training"):
        distributed.check_processes(too_many.processes)
    with pytest.raises(DataError, match="This machine has"):
        create_run(store, "p1", too_many, EXAMPLES, [], {"name": "tiny"})
    with pytest.raises(DataError, match="at least 1"):
        FinetuneConfig(base_ref="x", processes=0).check()
    with pytest.raises(DataError, match="Multi-process training runs LoRA and full"):
        FinetuneConfig(base_ref="x", method="dpo", processes=2).check()
    distributed.check_processes(limit)
    assert FinetuneConfig(batch_size=4, grad_accum=2, processes=3).effective_batch == 24


def test_launch_and_export_commands(tmp_path):
    folder = tmp_path / "my runs" / "ft-1"
    torchrun = distributed.launch_command(folder, 2)
    assert torchrun == [
        sys.executable,
        *("-m", "lifecycle.finetune.launch", "--nproc_per_node", "2"),
        *("-m", "lifecycle.finetune.worker", str(folder)),
    ]
    accelerate = distributed.launch_command(folder, 4, "accelerate")
    assert "--multi_gpu" in accelerate and "--cpu" not in accelerate
    assert accelerate[accelerate.index("--num_processes") + 1] == "4"
    with pytest.raises(ValueError, match="Unknown launcher"):
        distributed.launch_command(folder, 2, "mpirun")

    home, root = tmp_path / "data", Path("/srv/lifecycle")
    line = distributed.export_command(folder, 2, "torchrun", home, root)
    assert line == (
        f"cd /srv/lifecycle && LIFECYCLE_HOME={home} PYTHONPATH=/srv/lifecycle python -m "
        f"lifecycle.finetune.launch --nproc_per_node 2 -m lifecycle.finetune.worker '{folder}'"
    )
    line = distributed.export_command(folder, 8, "accelerate", home, root)
    assert "accelerate launch --multi_gpu --num_processes 8 " in line and line.endswith(
        f"'{folder}'"
    )


def test_a_job_started_from_inside_a_rank_does_not_inherit_its_process_group():
    inside = {"RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "29500", "OMP_NUM_THREADS": "1"}
    inside |= {"TORCHELASTIC_RUN_ID": "x", "ACCELERATE_MIXED_PRECISION": "no", "HOME": "/h"}
    assert distributed.launch_env(inside, 1) == {"HOME": "/h"}
    mine = {"ACCELERATE_MIXED_PRECISION": "bf16", "OMP_NUM_THREADS": "2"}
    assert distributed.launch_env(mine, 1) == mine  # a user's own settings stay
    threads = max(1, len(os.sched_getaffinity(0)) // 2)
    assert distributed.launch_env({"HOME": "/h"}, 2)["OMP_NUM_THREADS"] == str(threads)
    assert distributed.launch_env({"HOME": "/h"}, 2)["GLOO_SOCKET_IFNAME"] == "lo"
    assert distributed.launch_env({"GLOO_SOCKET_IFNAME": "eth1"}, 2)["GLOO_SOCKET_IFNAME"] == "eth1"
    assert distributed.launch_env({"OMP_NUM_THREADS": "3"}, 2)["OMP_NUM_THREADS"] == "3"
