"""Entry point of a training process: `python -m lifecycle.finetune.worker <run folder>`."""

from __future__ import annotations

import signal
import sys
import traceback
from pathlib import Path

from lifecycle.config import apply_offline_env, data_home


def main(folder: Path) -> int:
    """Train the run, record how it ended, then start the next queued job."""
    apply_offline_env()
    from lifecycle.finetune.distributed import bind_rank, rank

    bind_rank(folder)
    from lifecycle.alignment.dpo import train_dpo
    from lifecycle.finetune import jobs
    from lifecycle.finetune.data import DataError
    from lifecycle.finetune.runs import (
        STOP_FILE,
        log_tail,
        read_run,
        read_status,
        sync_record,
        write_status,
    )
    from lifecycle.finetune.train import train
    from lifecycle.models.sources import ModelLoadError
    from lifecycle.store import Store, now

    # SIGTERM (e.g. the machine shutting down) becomes a graceful stop with a checkpoint.
    signal.signal(signal.SIGTERM, lambda *_: (folder / STOP_FILE).touch())
    store = Store(data_home() / "lifecycle.sqlite")
    run = read_run(folder)
    code, error, log = 0, "", ""
    try:
        state = train_dpo(run) if run.config.method == "dpo" else train(run)
    except (DataError, ModelLoadError) as err:
        state, error, code = "failed", str(err), 1
    except Exception as err:  # any crash: the page shows the log's last lines, the app lives on
        traceback.print_exc()
        sys.stdout.flush()
        state, error, log, code = "failed", f"{type(err).__name__}: {err}", log_tail(folder), 1
    if rank() > 0:
        return code  # rank 0 alone records how the job ended and starts the next one
    status = read_status(folder)
    status.state, status.error, status.log, status.updated_at = state, error, log, now()
    status.resume, status.phase = state != "completed", ""
    if state in ("completed", "failed"):
        status.finished_at = now()
    write_status(folder, status)
    sync_record(store, read_run(folder))
    print(f"--- {state} {now()} ---", flush=True)
    jobs.dispatch(store)
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve()))
