"""End-to-end fixtures: the real app (`streamlit run app.py`) against a simulator, driven by headless Chromium.

The simulator runs in this test process, so tests can inject faults and count
the requests the app made. Every page counts the script runs it asks for, so a
test can wait for the one its action started (devtools/browser.py).
"""

from __future__ import annotations

import pytest

from devtools.app_server import AppServer
from devtools.browser import launch, new_context
from tests.e2e.browser import E2E_JOB_SECONDS
from tests.helpers import TEST_KEY
from videogen.simulator import Simulator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p, args=["--autoplay-policy=no-user-gesture-required"])
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
    context = new_context(browser, viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()
