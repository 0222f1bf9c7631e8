"""The demo reel in a real browser: downloaded from a batch, unzipped, opened from file:// with no network."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.e2e.browser import make_seed_batch, open_app, screenshot

pytestmark = pytest.mark.e2e

# Markup and markdown that must reach the viewer as the characters typed.
PROMPT = "A lighthouse at dusk <script>document.title = 'ran'</script> **bold** _soft_ # not a heading"


def test_a_batch_downloads_as_a_reel_that_plays_offline_and_shows_prompts_literally(app_server, e2e_sim, page, tmp_path):
    open_app(page, app_server.url)
    make_seed_batch(page, 2, prompt=PROMPT)
    with rerun(page):
        page.get_by_role("dialog").get_by_role("button", name="Create 2").click()
    expect(page.locator("[class*='st-key-batch-'] [data-testid='stVideo']")).to_have_count(2, timeout=60_000)
    (duration,) = {job.body["duration"] for job in e2e_sim.jobs.values()}  # what the form sent
    with page.expect_download() as download:
        page.locator("[class*='st-key-batch-']").get_by_role("button", name="Download demo reel").click()
    assert download.value.suggested_filename.startswith("demo-reel-") and download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.value.path()) as archive:
        archive.extractall(tmp_path)
        (index,) = [n for n in archive.namelist() if n.endswith("/index.html")]

    reel = page.context.new_page()
    requested: list[str] = []
    reel.on("request", lambda r: requested.append(r.url))
    reel.goto((tmp_path / index).as_uri())
    reel.wait_for_function("() => [...document.querySelectorAll('video')].every(v => v.readyState >= 2)", timeout=20_000)
    videos = reel.evaluate("() => [...document.querySelectorAll('video')].map(v => ({ready: v.readyState, duration: v.duration}))")
    assert len(videos) == 2
    assert all(abs(v["duration"] - duration) < 0.2 for v in videos), videos
    reel.evaluate("() => document.querySelector('video').play()")
    reel.wait_for_function("() => document.querySelector('video').currentTime > 0.2")

    prompts = reel.locator(".prompt").all_inner_texts()
    assert prompts == [PROMPT, PROMPT]
    assert reel.locator("main script").count() == 0 and reel.title() != "ran"
    assert reel.locator("strong, em, h1 + h1, main h1").count() == 0  # no markdown turned into markup
    assert requested and all(url.startswith("file://") for url in requested), requested
    # A frame a second and a half in, with both players idle, as a viewer sees the page after a first look.
    reel.evaluate("() => document.querySelectorAll('video').forEach(v => v.play())")
    reel.wait_for_function("() => [...document.querySelectorAll('video')].every(v => v.currentTime > 1.5)")
    reel.evaluate("() => document.querySelectorAll('video').forEach(v => v.pause())")
    screenshot(reel, "reel")
