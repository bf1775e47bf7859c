"""Lifecycle core: the engine behind the app. Pure Python, no Streamlit."""

from lifecycle.config import apply_offline_env

# Done at import so every entry point (app, tests, jobs, benches) is offline before torch loads.
apply_offline_env()

__version__ = "0.1.0"
