"""One-time preparation of a data folder, run by setup (`make run`) so no page waits for it:
the embedded model's fast copy (de-quantized from its GGUF) and the starter guides' vectors.

Run: .venv/bin/python -m lifecycle.prepare   (LIFECYCLE_HOME picks another data folder)
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

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


class BackgroundConversion:
    """The embedded model's conversion in a thread, for a data folder setup did not prepare:
    pages show its progress and go on instead of waiting for it."""

    def __init__(self) -> None:
        self.what, self.done, self.error = "Starting", 0.0, ""
        self.started = 0.0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def finished(self) -> bool:
        """True once the thread has ended (converted, or failed with `error`)."""
        return self._thread is not None and not self._thread.is_alive()

    def start(self) -> None:
        """Start the conversion once; after a failure, a call starts it again."""
        with self._lock:
            if self._thread is not None and (self._thread.is_alive() or not self.error):
                return
            self.what, self.done, self.error = "Starting", 0.0, ""
            self.started = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="lifecycle-convert", daemon=True)
            self._thread.start()

    def _step(self, what: str, done: float) -> None:
        self.what, self.done = what, done

    def _run(self) -> None:
        from lifecycle.models.sources import convert_embedded

        try:
            convert_embedded(self._step)
        except Exception as err:  # noqa: BLE001 (shown on the page that waits for it)
            self.error = str(err) or type(err).__name__


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
