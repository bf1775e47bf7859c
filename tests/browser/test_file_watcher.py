"""The app as configured never watches its data folder (runs and vectors change all the time).

Streamlit's default watcher puts an inotify watch on every folder under app.py's folder, the
data folder and the virtual environment included. The server here runs with the repository's
own .streamlit/config.toml (no test override) and a session open, then its inotify watches
are read from /proc.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import REPO, _free_port, _healthy, _stop
from tests.browser.ui import browser_tab, main

SETTLE_S = 5  # watchers are set up after the session's first run


def watched_inodes(pid: int) -> set[int]:
    """Inodes of every folder or file the process holds an inotify watch on."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if "inotify" not in os.readlink(fd):
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
        except OSError:
            continue
        for line in info.splitlines():
            if line.startswith("inotify wd"):
                found.add(int(line.split("ino:")[1].split()[0], 16))
    return found


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="reads Linux /proc")
def test_the_data_folder_and_the_venv_are_not_watched(browser: Browser, tmp_path) -> None:
    port = _free_port()
    env = {**os.environ, "HOME": str(tmp_path), "LIFECYCLE_HOME": str(tmp_path / "data")}
    with open(tmp_path / "streamlit.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _healthy(url):
            assert proc.poll() is None and time.monotonic() < deadline, "streamlit did not start"
            time.sleep(0.2)
        with browser_tab(browser) as page:
            page.goto(url)
            expect(main(page).get_by_role("heading").first).to_be_visible(timeout=120_000)
            time.sleep(SETTLE_S)
            watched = watched_inodes(proc.pid)
    finally:
        _stop(proc)
    for folder in (REPO, REPO / ".venv", REPO / "data", tmp_path / "data"):
        if folder.exists():
            assert folder.stat().st_ino not in watched, f"{folder} is watched"
