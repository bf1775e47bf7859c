"""torch, transformers and sentence-transformers imported once, one thread at a time.

Pages load models and embedders in background threads. Two threads importing transformers at
the same time (the RAG page's answering model beside its embedder) can meet a half-initialised
module: "cannot import name 'AutoModelForCausalLM' from 'transformers'". Every loader calls
`import_heavy()` first, so the first import happens under one lock and the rest is a no-op.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_done = False


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
