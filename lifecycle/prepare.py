"""One-time preparation of a data folder, run by setup (`make run`) so no page waits for it:
the embedded model's fast copy (de-quantized from its GGUF) and the starter guides' vectors.

Run: .venv/bin/python -m lifecycle.prepare   (LIFECYCLE_HOME picks another data folder)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from lifecycle.background import BackgroundJob
from lifecycle.config import data_home

OnStep = Callable[[str, float], None]  # (what is happening, fraction done 0-1)


def prepare(on_step: OnStep = lambda what, done: None) -> None:
    """Convert the embedded model and embed the starter guides; quick when already done."""
    from lifecycle.models.sources import convert_embedded, embedded_ready

    if not embedded_ready():
        convert_embedded(lambda what, done: on_step(what, 0.8 * done))
    on_step("Embedded model ready", 0.8)
    from lifecycle.rag.embedder import EMBEDDED_EMBEDDER, load_embedder
    from lifecycle.rag.starter import cache_starter_vectors, starter_texts
    from lifecycle.rag.vector_cache import cache_path, cached_keys, text_key

    if {text_key(t) for t in starter_texts()} <= cached_keys(cache_path(EMBEDDED_EMBEDDER)):
        on_step("Ready", 1.0)  # a second `make run` loads nothing
        return
    embedder = load_embedder(EMBEDDED_EMBEDDER)
    cache_starter_vectors(
        embedder,
        lambda done, total: on_step("Embedding the starter guides", 0.8 + 0.2 * done / total),
    )
    on_step("Ready", 1.0)


class BackgroundConversion(BackgroundJob):
    """The embedded model's conversion in a thread, for a data folder setup did not prepare:
    pages show its progress and go on instead of waiting for it."""

    name = "lifecycle-convert"

    def work(self, on_step: OnStep) -> None:
        from lifecycle.models.sources import convert_embedded

        convert_embedded(on_step)


def main() -> int:
    """Print each step with the elapsed time; a failure is one line, not a traceback."""
    start, last = time.monotonic(), [""]

    def show(what: str, done: float) -> None:
        if what != last[0]:
            last[0] = what
            print(f"[{time.monotonic() - start:5.1f} s] {what} ({done:.0%})", flush=True)

    print(f"Preparing the data folder {data_home()}", flush=True)
    try:
        prepare(show)
    except Exception as err:  # noqa: BLE001 (setup reports the reason; the app can still start)
        print(f"Preparation did not finish: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
