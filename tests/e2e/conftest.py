"""End-to-end fixtures: the real app (`streamlit run app.py`) against a simulator, driven by headless Chromium.

Chromium is Debian's /usr/bin/chromium: Playwright's own browser download is
not used. The simulator runs in this test process, so tests can inject faults
and count the requests the app made.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import TEST_KEY
from videogen.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
E2E_JOB_SECONDS = 2.0
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`streamlit run app.py` in a subprocess, configured only through the environment."""

    def __init__(self, env: dict[str, str], data_dir: Path, *, args: tuple[str, ...] = ()) -> None:
        self.args = args  # more `streamlit run` options, e.g. ("--secrets.files", path)
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.data_dir = data_dir
        self.env = {**os.environ, **env, "PLAYGROUND_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        for name in ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL"):
            if name not in env:
                self.env.pop(name, None)
        self.log = data_dir.parent / f"streamlit-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> AppServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port), "--server.headless", "true",
             *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/_stcore/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("streamlit did not become healthy")

    def stop(self, *, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            self.process.wait(timeout=20)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def e2e_sim(rendered_videos):
    with Simulator(job_seconds=E2E_JOB_SECONDS, videos_dir=rendered_videos) as sim:
        yield sim


@pytest.fixture
def app_server(e2e_sim, tmp_path):
    server = AppServer(
        {"AIMLAPI_API_KEY": TEST_KEY, "AIMLAPI_BASE_URL": e2e_sim.url, "PLAYGROUND_TYPICAL_SECONDS": str(E2E_JOB_SECONDS)},
        tmp_path / "data",
    ).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Streamlit's own e2e idiom: the app element reports when the script is not running.

    A run that an action just asked for may not have started yet, so give it a moment
    first (Streamlit's e2e helpers do the same), or this would see the previous run's state.
    """
    page.wait_for_timeout(150)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def tick_history_row(page, row: int, *, selected: int) -> None:
    """Tick row `row` (0 is the newest) of History's table and wait until the page shows `selected` rows chosen.

    The table is drawn on a canvas, so the click goes to the checkbox's position. The grid keeps an
    accessible copy of its rows in the DOM: waiting for it means the click cannot land before the grid
    can take it, and its aria-selected confirms the click was taken before the page's answer is awaited.
    """
    table = page.locator("[data-testid='stDataFrame']")
    line = table.locator("[role=row]").nth(row + 1)  # the first is the header
    line.wait_for(state="attached")
    wait_for_app(page)
    table.click(position={"x": 12, "y": 55 + 35 * row})
    expect(line).to_have_attribute("aria-selected", "true")
    expect(page.locator(".st-key-history-selection")).to_contain_text(f"{selected} selected")
    wait_for_app(page)


def open_app(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def screenshot(page, name: str) -> Path:
    """Save to test-artifacts/; with UPDATE_SCREENSHOTS=1 (make screenshots) also to docs/screenshots/ for the README."""
    ARTIFACTS.mkdir(exist_ok=True)
    # Toasts would cover the page's top right; they leave on their own after a few seconds.
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stToast']\")", timeout=20_000)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        (docs / f"{name}.png").write_bytes(path.read_bytes())
    return path
