"""Signs of life before the first token: the queue, the prompt being read, measured speeds."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

HEARTBEAT_S = 0.5  # how often a waiting page hears from the stream
MIN_PREFILL_TOKENS = 64  # shorter prompts time the first answer token more than the reading
_RATES: dict[str, float] = {}  # model ref -> measured prompt tokens read per second


@dataclass
class Progress:
    """Where a stream stands: queued behind another tab, reading the prompt, or answering."""

    prompt_tokens: int = 0
    phase: str = "queued"  # queued | prompt | answer
    since: float = field(default_factory=time.monotonic)  # when this phase began
    read: Callable[[], int | None] = lambda: None  # prompt tokens read so far, where reported

    def enter(self, phase: str, read: Callable[[], int | None] | None = None) -> None:
        """Move to the next phase (its clock starts now)."""
        self.phase, self.since = phase, time.monotonic()
        if read is not None:
            self.read = read


def record_prefill(ref: str, prompt_tokens: int, ttft_s: float | None) -> None:
    """Remember how fast this model read a prompt (from a finished run's first-token time)."""
    if ttft_s and ttft_s > 0 and prompt_tokens >= MIN_PREFILL_TOKENS:
        _RATES[ref] = prompt_tokens / ttft_s


def prefill_rate(ref: str) -> float | None:
    """Prompt tokens a second this model read last time, if measured in this process."""
    return _RATES.get(ref)


def waiting_line(progress: Progress, rate: float | None = None, now: float | None = None) -> str:
    """One sentence on what the model is doing before its first token."""
    elapsed = (time.monotonic() if now is None else now) - progress.since
    if progress.phase == "queued":
        return f"Waiting for another tab's generation to finish ({elapsed:.0f} s so far)."
    total = progress.prompt_tokens
    done = progress.read()
    if done is not None and total:
        share = min(done, total) / total
        return (
            f"Reading the prompt: {min(done, total):,} of {total:,} tokens ({share:.0%}), "
            f"{elapsed:.0f} s so far."
        )
    line = f"Reading the prompt ({total:,} tokens): {elapsed:.0f} s so far"
    if rate:
        expected = total / rate
        left = f"about {max(expected - elapsed, 0):.0f} s left" if expected > elapsed else "soon"
        return f"{line}; {left} at the {rate:,.0f} tokens/s measured on this model."
    return f"{line}; the first token follows once it is read."


class _Raised:
    def __init__(self, error: BaseException):
        self.error = error


_END = object()


def heartbeat(chunks: Iterable[str], every: float = HEARTBEAT_S) -> Iterator[str]:
    """The same chunks, read in a worker thread, with '' whenever none came for `every` s."""
    box: queue.Queue = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        it = iter(chunks)
        try:
            for chunk in it:
                box.put(chunk)
                if stop.is_set():  # the reader has gone: end the generation too
                    break
        except BaseException as err:  # noqa: BLE001 - handed to the reader's thread
            box.put(_Raised(err))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
            box.put(_END)

    worker = threading.Thread(target=pump, daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = box.get(timeout=every)
            except queue.Empty:
                yield ""
                continue
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()  # the stream's own clean-up (lock, result) is done when this returns
