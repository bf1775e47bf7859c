"""One piece of long work in a thread: pages show its progress and go on instead of waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class BackgroundJob:
    """Runs `work(on_step)` once in a daemon thread; `what`, `done` and `error` say where it is.

    Subclasses define `work`. After a failure (`error` set), `start()` runs it again.
    """

    name = "lifecycle-job"  # the thread's name (seen in a debugger or py-spy)

    def __init__(self) -> None:
        self.what, self.done, self.error = "Starting", 0.0, ""
        self.started = 0.0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def work(self, on_step: Callable[[str, float], None]) -> None:
        """The long work itself, reporting (what, fraction done) through on_step."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """True while the thread works."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def finished(self) -> bool:
        """True once the thread has ended (done, or failed with `error`)."""
        return self._thread is not None and not self._thread.is_alive()

    def again(self) -> bool:
        """Whether a finished job runs again when started: after a failure."""
        return bool(self.error)

    def start(self) -> None:
        """Start the work once; after a failure (see `again`), a call starts it again."""
        with self._lock:
            if self._thread is not None and (self._thread.is_alive() or not self.again()):
                return
            self.what, self.done, self.error = "Starting", 0.0, ""
            self.started = time.monotonic()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work ends (scripts and tests; pages never wait); True when it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.finished

    def _step(self, what: str, done: float) -> None:
        self.what, self.done = what, done

    def _run(self) -> None:
        try:
            self.work(self._step)
        except Exception as err:  # noqa: BLE001 (shown on the page that follows it)
            self.error = str(err) or type(err).__name__
