"""Browser-test fixtures: a real Streamlit server and headless Debian Chromium via Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().decode().strip() == "ok"
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's whole process group, then kill it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@contextmanager
def serve(base: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run app.py` on a free port with data in base/lifecycle-home; yield its URL.

    Prepare the data folder (projects, a linked model) before entering.
    """
    home, data = base / "home", base / "lifecycle-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "LIFECYCLE_HOME": str(data),
        "HF_HOME": str(base / "hf-home"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "LIFECYCLE_ALLOW_HUB": "",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        # The embedded model on transformers whether llama.cpp is installed or not.
        "LIFECYCLE_EMBEDDED_RUNTIME": "transformers",
        **(extra_env or {}),
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = base / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
            + ["--server.headless", "true", "--server.address", "127.0.0.1"]
            + ["--browser.gatherUsageStats", "false"]
            # Sources may be edited meanwhile: a "source changed" prompt would keep the status
            # widget up, so test servers do not watch files.
            + ["--server.fileWatcherType", "none"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("streamlit did not start:\n" + log_path.read_text(errors="replace"))
                time.sleep(0.2)
            yield url
        finally:
            _stop(proc)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """A server with an empty data folder (the walk creates its own project)."""
    with serve(tmp_path_factory.mktemp("browser-app")) as url:
        yield url


def with_model(base: Path, embedded_models: Path, project: str, task: str = "") -> Path:
    """Prepare a server's data folder: the embedded model linked, one project (scoped to task)."""
    from lifecycle.store import Store
    from tests.conftest import link_embedded

    data = base / "lifecycle-home"
    link_embedded(embedded_models, data)
    store = Store(data / "lifecycle.sqlite")
    created = store.create_project(project)
    if task:
        store.put_record(created.id, "scope", {"primary_task": task})
    return base


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (never a Playwright-downloaded one)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    """One page shared by the ordered steps of a test module."""
    from tests.browser.ui import browser_tab

    with browser_tab(browser) as pg:
        yield pg
