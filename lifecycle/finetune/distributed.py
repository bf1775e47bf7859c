"""Multi-process runs: how many processes fit, the launch commands, and the ranks' weight check.

One job on N processes is `python -m lifecycle.finetune.launch --nproc_per_node N -m
lifecycle.finetune.worker <run folder>` (torchrun with its stores on loopback): every rank trains on
its share of each batch (DDP: gloo on CPU, nccl on GPUs), rank 0 alone writes the run folder's
progress and results.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from lifecycle.finetune.data import DataError
from lifecycle.transfer import write_json_atomic

LAUNCHERS = ("torchrun", "accelerate")
WORKER = ("-m", "lifecycle.finetune.worker")
TORCHRUN = ("-m", "lifecycle.finetune.launch")  # torchrun, every listening socket on loopback
# Process groups bind their sockets to this interface: loopback, as the job is on one machine.
LOOPBACK_VARS = {"GLOO_SOCKET_IFNAME": "lo", "NCCL_SOCKET_IFNAME": "lo"}
RANKS = "ranks"  # run subfolder: one report (and, for ranks above 0, one log) per rank
# What torchrun and accelerate set in each rank. A job started from inside a rank (the queue's
# next one) must not inherit them, or its Trainer would join the finished job's process group.
LAUNCH_VARS = {
    "RANK",
    "LOCAL_RANK",
    "WORLD_SIZE",
    "LOCAL_WORLD_SIZE",
    "GROUP_RANK",
    "GROUP_WORLD_SIZE",
    "ROLE_RANK",
    "ROLE_NAME",
    "ROLE_WORLD_SIZE",
    "MASTER_ADDR",
    "MASTER_PORT",
    "TORCH_NCCL_ASYNC_ERROR_HANDLING",
}
LAUNCH_PREFIXES = ("TORCHELASTIC_", "ACCELERATE_")


def rank() -> int:
    """This process's rank (0 when not launched by torchrun or accelerate)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """How many processes train this job."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def machine_limit() -> tuple[int, str]:
    """(most processes, what sets the limit): one per GPU when training on GPUs, else per core."""
    import torch

    gpus = torch.cuda.device_count()
    if gpus and os.environ.get("LIFECYCLE_DEVICE", "").strip().lower() != "cpu":
        return gpus, f"{gpus} GPU{'s' if gpus > 1 else ''}"
    # The cores this process may use: a container or taskset can allow fewer than cpu_count().
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return cores, f"{cores} CPU core{'s' if cores > 1 else ''}"


def check_processes(n: int) -> None:
    """Refuse a process count this machine cannot run, saying what the limit is."""
    if n < 1:
        raise DataError("Processes must be at least 1.")
    limit, what = machine_limit()
    if n > limit:
        raise DataError(
            f"This machine has {what}: at most {limit} training process"
            f"{'es' if limit > 1 else ''} (you asked for {n}). Lower Processes, or run the "
            "exported command on a machine with more."
        )


def launch_command(folder: Path, n: int, launcher: str = "torchrun") -> list[str]:
    """The argv that trains the run in `folder` on `n` processes."""
    if launcher == "torchrun":
        # Not torchrun --standalone: its store would listen on every interface.
        head = [*TORCHRUN, "--nproc_per_node", str(n)]
    elif launcher == "accelerate":
        # --multi_gpu, not --cpu: `--cpu --num_processes N` silently starts a single process.
        head = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(n)]
        head += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    else:
        raise ValueError(f"Unknown launcher {launcher!r}: use one of {LAUNCHERS}.")
    return [sys.executable, *head, *WORKER, str(folder)]


def export_command(folder: Path, n: int, launcher: str, home: Path, root: Path) -> str:
    """A shell line to paste in a terminal: the data folder, the code, then the launcher."""
    argv = launch_command(folder, n, launcher)[1:]
    program = (
        "python -m lifecycle.finetune.launch" if launcher == "torchrun" else "accelerate launch"
    )
    args = " ".join(shlex.quote(a) for a in argv[2:])  # drop `-m <launcher module>`
    env = f"LIFECYCLE_HOME={shlex.quote(str(home))} PYTHONPATH={shlex.quote(str(root))}"
    return f"cd {shlex.quote(str(root))} && {env} {program} {args}"


def launch_env(env: dict[str, str], n: int) -> dict[str, str]:
    """A clean environment for a new job; each of `n` ranks gets an equal share of the cores."""
    inside = "TORCHELASTIC_RUN_ID" in env  # started from a rank: drop all its launcher set
    clean = {
        k: v
        for k, v in env.items()
        if k not in LAUNCH_VARS and not (inside and k.startswith(LAUNCH_PREFIXES))
    }
    if inside:
        clean.pop("OMP_NUM_THREADS", None)  # torchrun's 1 thread per rank, not the user's choice
    if n > 1 and "OMP_NUM_THREADS" not in clean:
        # torchrun would pin every rank to one thread, leaving cores idle when N < cores.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        clean["OMP_NUM_THREADS"] = str(max(1, cores // n))
    if n > 1:
        clean = {**LOOPBACK_VARS, **clean}  # a user's own interface choice stays
    return clean


def bind_rank(folder: Path) -> None:
    """Point a rank at its own GPU and, above rank 0, its own log (log.txt is rank 0's)."""
    if world_size() == 1:
        return
    if rank() > 0:
        log = folder / RANKS / f"rank{rank()}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    import torch

    if torch.cuda.is_available():
        # The loader's "cuda" is then this rank's GPU, not every rank crowding GPU 0.
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))


def any_rank(flag: bool) -> bool:
    """True on every rank when any rank's flag is true: ranks must stop at the same step."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def barrier() -> None:
    """Wait for every rank (a no-op in a single process)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def weights_checksum(model: Any) -> dict:
    """Sum and sha256 of every trainable parameter in name order: equal on ranks in sync."""
    import torch

    digest, total, count = hashlib.sha256(), 0.0, 0
    for name, p in sorted(model.named_parameters(), key=lambda item: item[0]):
        if not p.requires_grad:
            continue
        # float32 holds fp32, bf16 and fp16 values exactly, and numpy cannot hold bf16.
        t = p.detach().to("cpu", torch.float32).contiguous()
        digest.update(name.encode())
        digest.update(t.numpy().tobytes())
        total += float(t.double().sum())
        count += t.numel()
    return {"sum": total, "sha256": digest.hexdigest(), "parameters": count}


def write_rank_report(folder: Path, step: int, checksum: dict) -> None:
    """ranks/rank<r>.json: this rank's final step and weight checksum."""
    report = {"rank": rank(), "world_size": world_size(), "pid": os.getpid(), "step": step}
    report.update(checksum)
    write_json_atomic(folder / RANKS / f"rank{rank()}.json", report)


def compare_ranks(folder: Path, n: int) -> tuple[bool, str]:
    """Whether all `n` ranks reported the same step and weights, and a sentence saying so."""
    import json

    reports = []
    for r in range(n):
        path = folder / RANKS / f"rank{r}.json"
        if not path.is_file():
            return False, f"Rank {r} did not report its weights: the ranks cannot be compared."
        reports.append(json.loads(path.read_text(encoding="utf-8")))
    hashes = {(rep["sha256"], rep["step"]) for rep in reports}
    if len(hashes) == 1:
        return True, (
            f"All {n} ranks ended at step {reports[0]['step']} with identical weights "
            f"(sha256 {reports[0]['sha256'][:12]}, {reports[0]['parameters']:,} parameters)."
        )
    detail = "; ".join(
        f"rank {rep['rank']}: step {rep['step']}, sha256 {rep['sha256'][:12]}" for rep in reports
    )
    return False, f"The ranks ended with DIFFERENT weights (DDP out of sync): {detail}."


def run_processes(folder: Path) -> list[int]:
    """Every live process training the run in `folder` (launcher and ranks), from /proc."""
    wanted = str(folder).encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # ended while we looked, or not ours to read
        if (
            wanted in args
            and b"lifecycle.finetune.worker" in args
            and int(entry.name) != os.getpid()
        ):
            found.append(int(entry.name))
    return found
