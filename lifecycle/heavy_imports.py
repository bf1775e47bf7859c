"""torch, transformers and sentence-transformers imported once, and models built one at a time.

Pages load models and embedders in background threads. Two threads importing transformers at
the same time (the RAG page's answering model beside its embedder) can meet a half-initialised
module: "cannot import name 'AutoModelForCausalLM' from 'transformers'". Every loader calls
`import_heavy()` first, so the first import happens under one lock and the rest is a no-op.

Building a model is not thread-safe either: transformers' `from_pretrained` builds on the meta
device with process-wide patches (the default dtype, `torch.nn.init`, `torch.linspace`), as does
accelerate's `init_empty_weights` (`nn.Module.register_parameter`). A second model built
meanwhile in another thread gets meta tensors ("Cannot copy out of meta tensor; no data!").
Every in-process build of weights holds `building()`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_done = False
_build = threading.RLock()  # re-entrant: loading an adapter builds its base model first


@contextmanager
def building() -> Iterator[None]:
    """Hold the process-wide lock for building a model's weights (imports done first)."""
    import_heavy()
    with _build:
        yield


def import_heavy() -> None:
    """Import the heavy libraries (and resolve transformers' lazy auto classes) once."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        import sentence_transformers  # noqa: F401 (it imports transformers and torch too)
        import torch  # noqa: F401
        import transformers

        lazy = (
            "AutoConfig",
            "AutoTokenizer",
            "AutoModel",
            "AutoModelForCausalLM",
            "AutoModelForSeq2SeqLM",
        )
        for name in lazy:  # resolved here, not in two threads at once
            getattr(transformers, name)
        _done = True
