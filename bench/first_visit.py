"""First visits: time to a settled page for every page of the app on a fresh data folder after
setup (`python -m lifecycle.prepare`, as `make run` does), against a hello-world Streamlit page
served and visited the same way in the same run.

Each visit is a new browser session (a new tab) straight to the page's URL; "settled" means the
page's title is drawn (its script has started: on a busy machine the idle state before the first
run would otherwise count as settled), then the script finished and Streamlit's running
indicator is gone (what the browser tests wait for).
A page whose model or vector store loads in the background settles with their status in view;
the bench then waits for the full page (the status gone) before the next visit, and prints that
time too, so no visit competes with the previous page's load.
The app's server is fresh, so the first visit to a page pays its imports: that is the figure.
Prints one line per page: seconds to settle, the ratio to hello world (goal ≤ 3x for every
page), and seconds to the full page.
Run: .venv/bin/python -m bench.first_visit
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from components.background import STATUS_NOTE
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _healthy, _stop
from tests.browser.test_offline import PAGES
from tests.browser.ui import wait_idle

REPO = Path(__file__).resolve().parent.parent
HELLO = 'import streamlit as st\n\nst.title("Hello")\nst.write("world")\n'
LIMIT_MS = 900_000  # a page that never settles is reported, not waited on forever


@contextmanager
def server(script: str, env: dict[str, str]):
    """`streamlit run script` on a free loopback port; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--server.address", "127.0.0.1"]
    cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while not _healthy(url):
            if proc.poll() is not None:
                raise SystemExit(f"streamlit run {script} did not start")
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc)


def visit(browser, url: str) -> tuple[float, float]:
    """Seconds from opening a new tab at `url` to a settled page, and to the full page (its
    background loads done and drawn)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url)
        title = page.locator('[data-testid="stMain"] h1').first
        expect(title).to_be_visible(timeout=LIMIT_MS)
        wait_idle(page, LIMIT_MS)
        settled = time.perf_counter() - start
        expect(page.get_by_text(STATUS_NOTE)).to_have_count(0, timeout=LIMIT_MS)
        wait_idle(page, LIMIT_MS)
        return settled, time.perf_counter() - start
    finally:
        context.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    from lifecycle.store import Store

    base = Path(tempfile.mkdtemp(prefix="bench-first-visit-"))
    data = base / "lifecycle-home"
    env = {
        **os.environ,
        "LIFECYCLE_HOME": str(data),
        "HF_HOME": str(base / "hf-home"),
        "LIFECYCLE_EMBEDDED_RUNTIME": os.environ.get("LIFECYCLE_EMBEDDED_RUNTIME", "transformers"),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lifecycle.prepare"], env=env, check=True, cwd=REPO)
    print(f"setup (python -m lifecycle.prepare): {time.perf_counter() - begin:.1f} s")
    project = Store(data / "lifecycle.sqlite").create_project("First visit")
    Store(data / "lifecycle.sqlite").put_record(
        project.id, "scope", {"primary_task": "summarization"}
    )
    (base / "hello.py").write_text(HELLO)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        with server(str(base / "hello.py"), env) as url:
            hello = min(visit(browser, url)[0] for _ in range(3))
        print(f"hello world: {hello:.2f} s (best of 3)")
        worst = 0.0
        with server("app.py", env) as url:
            for name in PAGES:
                seconds, full = visit(browser, f"{url}/{name}")
                worst = max(worst, seconds / hello)
                print(
                    f"{name or 'home':16} {seconds:6.2f} s  {seconds / hello:5.1f}x hello world"
                    f"  (full page {full:6.2f} s)",
                    flush=True,
                )
        browser.close()
    verdict = "met" if worst <= 3 else "missed"
    print(f"worst page: {worst:.1f}x hello world (goal ≤ 3x: {verdict})")


if __name__ == "__main__":
    main()
