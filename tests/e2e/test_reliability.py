"""Fault scenarios that involve the app process or the page, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from devtools.app_server import AppServer
from devtools.browser import rerun, wait_until_idle
from tests.e2e.browser import generate, open_app
from tests.helpers import TEST_KEY, wait_until
from videogen.api import Status
from videogen.simulator import Fault, JobScript
from videogen.store import Store

pytestmark = pytest.mark.e2e

# How long the page and the poller are watched for what must not happen (a second banner, polls while paused):
# no event marks a thing that does not happen.
QUIET_MS = 3000


def test_killed_with_five_pending_then_restarted_all_complete(e2e_sim, page, tmp_path):
    e2e_sim.job_seconds = 12.0
    env = {"AIMLAPI_API_KEY": TEST_KEY, "AIMLAPI_BASE_URL": e2e_sim.url, "PLAYGROUND_TYPICAL_SECONDS": "12"}
    server = AppServer(env, tmp_path / "data").start()
    open_app(page, server.url)
    for n in range(5):
        generate(page, f"Pending generation number {n + 1}")
        assert wait_until(lambda n=n: e2e_sim.count("create") == n + 1, timeout=10)
    store = Store(server.data_dir)
    assert len(store.pending()) == 5
    server.stop(kill=True)  # SIGKILL: no cleanup of any kind

    restarted = AppServer(env, server.data_dir).start()
    try:
        # Nobody opens a page: the poller starts with the app's first session, so open one.
        open_app(page, restarted.url)
        assert wait_until(lambda: all(r.video_path for r in store.records()), timeout=60, interval=0.5)
    finally:
        restarted.stop()
    records = store.records()
    assert len(records) == 5 and all(r.status is Status.COMPLETED for r in records)
    assert e2e_sim.count("create") == 5  # nothing was created twice


def test_outcome_unknown_is_said_plainly(app_server, e2e_sim, page):
    e2e_sim.faults.inject("create", Fault.dropped())
    open_app(page, app_server.url)
    generate(page, "A create whose answer never arrives")
    page.get_by_text("We could not confirm whether this generation started.").wait_for()
    expect(page.get_by_role("button", name="Submit again")).to_be_visible()
    # The create is sent in the run the click started, and that run is over: a retry would have been made in it.
    assert e2e_sim.count("create") == 1 and len(e2e_sim.jobs) == 1


def test_a_rate_limited_create_says_to_retry(app_server, e2e_sim, page):
    e2e_sim.faults.inject("create", Fault.http(429, retry_after=30))
    open_app(page, app_server.url)
    generate(page, "Too many at once")
    page.get_by_text("Nothing was created. Try again in 30 s.", exact=False).wait_for()
    assert not e2e_sim.jobs


@pytest.mark.parametrize(
    "script, fault, words",
    [
        (JobScript(video_url=False), None, "sent no link to it"),
        (JobScript(), Fault.http(404), "the file is gone"),
        (JobScript(), Fault.html(), "not a video"),
    ],
    ids=["no-link", "link-404", "link-serves-html"],
)
def test_a_broken_video_link_is_a_clear_error_on_the_card(app_server, e2e_sim, page, script, fault, words):
    e2e_sim.faults.script(script)
    if fault:
        e2e_sim.faults.inject("video", fault, times=10)
    open_app(page, app_server.url)
    generate(page, "A video with a broken link")
    page.get_by_text("The video could not be fetched.").wait_for(timeout=45_000)
    expect(page.get_by_text(words, exact=False)).to_be_visible()
    expect(page.locator("[data-testid='stVideo']")).to_have_count(0)
    assert "Traceback" not in page.content()


@pytest.mark.parametrize("status, words", [(401, "refused the key (401)"), (403, "cannot generate (403)")])
def test_a_refused_key_shows_one_banner_and_no_traceback(app_server, e2e_sim, page, status, words):
    open_app(page, app_server.url)
    generate(page, "Made before the key was refused")
    if status == 401:
        e2e_sim.api_keys = {"a-different-key-entirely"}
    else:
        # The vendor's out-of-credits 403: any other 403 is one request's refusal and pauses nothing.
        e2e_sim.faults.inject("fetch", Fault.out_of_credits(), times=1000)
        e2e_sim.faults.inject("create", Fault.out_of_credits(), times=1000)
    generate(page, "Made after")
    page.get_by_text(words, exact=False).first.wait_for(timeout=30_000)
    page.wait_for_timeout(QUIET_MS)
    wait_until_idle(page)
    assert page.get_by_text(words, exact=False).count() == 1
    assert "Traceback" not in page.content()
    fetches = e2e_sim.count("fetch")
    page.wait_for_timeout(QUIET_MS)
    assert e2e_sim.count("fetch") - fetches <= 1  # paused, not a retry storm


def test_blank_prompts_get_a_message_and_send_nothing(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    for prompt in ("", "    \n\t  "):
        generate(page, prompt)
        expect(page.get_by_text("Prompt is required.")).to_be_visible()
    page.get_by_label("Prompt", exact=True).fill("x" * 12_304)  # a paste three times the limit
    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Prompt is 12,304 characters long; the limit is 4,000.")).to_be_visible()
    expect(page.get_by_text("Prompt is required.")).not_to_be_visible()
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("x" * 12_304)  # kept, to be shortened
    assert e2e_sim.count("create") == 0
