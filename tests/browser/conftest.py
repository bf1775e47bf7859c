"""Browser-test fixtures: a real Streamlit server and headless Debian Chromium via Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
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
VIEWPORT = {"width": 1400, "height": 1000}
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


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Start `streamlit run app.py` on a free port with its own data folder and HOME."""
    base = tmp_path_factory.mktemp("browser-app")
    home, data = base / "home", base / "lifecycle-home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "LIFECYCLE_HOME": str(data),
        "HF_HOME": str(base / "hf-home"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(base / "streamlit.log", "wb")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",  # edits to the sources during a run must not pop up a rerun prompt
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(url):
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with {proc.returncode}:\n"
                    + (base / "streamlit.log").read_text(errors="replace")
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit not healthy after {STARTUP_TIMEOUT_S} s:\n"
                    + (base / "streamlit.log").read_text(errors="replace")
                )
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc)
        log.close()


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
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
