"""torch's global random generator, seeded and drawn from by one thread at a time.

`torch.manual_seed` seeds one generator for the whole process. Two sessions sampling from two
models at once (each model has its own lock) drew from it in turns, so a sample no longer
followed from its seed alone. Whatever seeds and then draws holds `seeded(seed)`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.RLock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator and keep it to this thread until the block ends."""
    import torch

    with _lock:
        torch.manual_seed(seed)
        yield
