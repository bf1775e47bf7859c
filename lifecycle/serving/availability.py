"""Whether the llama.cpp fast path is installed, and how to get it (imports nothing heavy)."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "make llama"  # the optional extra (compiles llama.cpp once, ~5-8 min on 2 cores)


def llama_available() -> bool:
    """True when llama-cpp-python is installed (without importing it: that loads the library)."""
    return importlib.util.find_spec("llama_cpp") is not None


def missing_message() -> str:
    """How to get the fast path."""
    return (
        "llama.cpp is not installed, so the embedded model runs on transformers. Install the "
        f"optional fast path with `{INSTALL_HINT}` (builds llama-cpp-python once, about 5-8 "
        "minutes on 2 cores) and restart the app."
    )
