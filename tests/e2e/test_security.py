"""Secrets stay secret, user and server text stays text, and the app listens on localhost only."""

from __future__ import annotations

import ipaddress
import json
import tomllib

import psutil
import pytest

from tests.e2e.conftest import ROOT, AppServer, open_app, wait_for_app
from tests.e2e.test_playground import export_csv, generate, wait_for_videos
from videogen.simulator import Fault, JobPlan

pytestmark = pytest.mark.e2e

LEAKY_KEY = "sk-live-LEAKCHECK-7f3a9c2e1b5d4e60"
HOSTILE_PROMPTS = ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", ":red[red] $x^2$ **bold** <script>alert(3)</script>"]
HOSTILE_ERROR = "<b>refused</b><script>alert(2)</script><img src=y onerror=alert(4)>"


def everything_under(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_the_key_never_appears_anywhere(e2e_sim, page, tmp_path):
    e2e_sim.api_keys = {LEAKY_KEY}
    server = AppServer(
        {"AIMLAPI_API_KEY": LEAKY_KEY, "AIMLAPI_BASE_URL": e2e_sim.url, "PLAYGROUND_TYPICAL_SECONDS": "2"}, tmp_path / "data"
    ).start()
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    html: list[str] = []
    downloads: list[bytes] = []
    try:
        open_app(page, server.url)
        generate(page, "A leak check")
        wait_for_videos(page, 1)
        html.append(page.content())
        e2e_sim.faults.inject("create", Fault.http(503))
        generate(page, "A failing create")
        e2e_sim.faults.inject("create", Fault.http(400))
        generate(page, "A refused create")
        html.append(page.content())
        page.get_by_role("link", name="History").click()
        wait_for_app(page)
        html.append(page.content())
        downloads.append(json.dumps(export_csv(page)).encode())
        with page.expect_download() as download:
            page.get_by_role("button", name="Export JSON").click()
        downloads.append(download.value.path().read_bytes())
    finally:
        server.stop()
    key = LEAKY_KEY.encode()
    assert key not in everything_under(server.data_dir), "the data directory holds the key"
    assert LEAKY_KEY not in server.output(), "the app's log holds the key"
    assert all(LEAKY_KEY not in h for h in html), "a page holds the key"
    assert all(LEAKY_KEY not in u for u in urls + [r.path for r in e2e_sim.requests]), "a URL holds the key"
    assert all(key not in d for d in downloads), "an export holds the key"
    assert LEAKY_KEY[-4:] in html[0]  # what may be shown: the last four characters


def test_a_key_pasted_in_the_sidebar_is_not_kept_in_the_page(e2e_sim, page, tmp_path):
    e2e_sim.api_keys = {LEAKY_KEY}
    server = AppServer({"AIMLAPI_BASE_URL": e2e_sim.url, "PLAYGROUND_TYPICAL_SECONDS": "2"}, tmp_path / "data").start()
    try:
        open_app(page, server.url)
        assert page.get_by_text("Demo mode").first.is_visible()
        field = page.get_by_label("API key", exact=True)
        field.fill(LEAKY_KEY)
        field.press("Enter")
        wait_for_app(page)
        page.get_by_text("Live API").wait_for()
        generate(page, "Made with a pasted key")
        wait_for_videos(page, 1)
        assert LEAKY_KEY not in page.content()
        assert e2e_sim.count("create") == 1
    finally:
        server.stop()
    assert LEAKY_KEY.encode() not in everything_under(server.data_dir)
    assert LEAKY_KEY not in server.output()


def test_hostile_prompts_and_server_messages_stay_literal_text(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    for prompt in HOSTILE_PROMPTS:
        generate(page, prompt)
    e2e_sim.faults.plan(JobPlan(error=HOSTILE_ERROR))
    generate(page, "Fails with an HTML message")
    wait_for_videos(page, len(HOSTILE_PROMPTS))
    page.get_by_text("The generation failed.").wait_for(timeout=45_000)
    page.wait_for_timeout(1500)  # any injected handler would have fired by now

    for prompt in HOSTILE_PROMPTS:
        assert page.get_by_text(prompt, exact=True).first.is_visible(), prompt
    assert page.get_by_text(f"GenerationError: {HOSTILE_ERROR}", exact=True).is_visible()
    assert page.dialogs == []
    assert page.locator("img[src='x'], img[src='y']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("script:text('alert')").count() == 0
    assert page.locator("b:text('refused')").count() == 0
    # The toasts that announced them are text too.
    assert page.locator("[data-testid='stToast'] a, [data-testid='stToast'] img").count() == 0


def test_the_app_listens_on_localhost_only(app_server):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    process = psutil.Process(app_server.process.pid)
    listening = [c for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening
    for conn in listening:
        assert ipaddress.ip_address(conn.laddr.ip).is_loopback, conn.laddr
