"""The playground in a real browser: generate, watch, fail, list, reload, double-click."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from devtools.app_server import AppServer
from devtools.browser import rerun
from tests.e2e.browser import export_csv, generate, open_app, reload, screenshot, tick_history_row, wait_for_videos
from tests.helpers import wait_until
from videogen.simulator import JobScript

pytestmark = pytest.mark.e2e

FOX = "A red fox trotting through fresh snow at dawn, soft light"
STORM = "A lighthouse in a storm, waves crashing over the rocks"


def video_state(page, index: int = 0) -> dict:
    return (
        page.locator("[data-testid='stVideo']")
        .nth(index)
        .evaluate("v => ({ready: v.readyState, duration: v.duration, src: v.currentSrc, width: v.videoWidth, height: v.videoHeight})")
    )


def select_first_history_row(page) -> None:
    """Open History and tick the first row's checkbox (the table is a canvas: click by position)."""
    with rerun(page):
        page.get_by_role("link", name="History").click()
    tick_history_row(page, 0, selected=1)


def test_a_prompt_becomes_a_playing_video(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, STORM, ratio="9:16 portrait", duration=6)
    wait_for_videos(page, 1)
    state = video_state(page)
    assert state["duration"] == pytest.approx(6, abs=0.1)
    assert (state["width"], state["height"]) == (720, 1280)
    # Played from the app's own copy, never from the simulator's loopback address.
    assert "/media/" in state["src"] and str(e2e_sim.port) not in state["src"]
    player = page.locator("[data-testid='stVideo']")
    # The poster the poller made, as the player's own poster: shown until it plays.
    expect(player).to_have_attribute("poster", re.compile(r"^data:image/jpeg;base64,/9j/"), timeout=30_000)
    assert player.evaluate("v => new Promise(r => { const i = new Image(); i.onload = () => r(i.naturalWidth); i.src = v.poster; })") >= 240
    player.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0", arg=player.element_handle())
    expect(page.get_by_role("button", name="Download")).to_be_visible()
    generate(page, FOX, ratio="16:9 landscape", duration=5)
    wait_for_videos(page, 2)
    # Both finished: the full run that toasts them has drawn the sidebar's "Nothing running." (the screenshot
    # waits for the toasts to leave).
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Nothing running.")
    page.wait_for_function("() => [...document.querySelectorAll('video')].every(v => v.readyState >= 3)")
    page.evaluate("() => document.querySelectorAll('video').forEach(v => { v.pause(); v.currentTime = 2.5; })")
    page.wait_for_function("() => [...document.querySelectorAll('video')].every(v => !v.seeking && v.readyState >= 2)")
    screenshot(page, "generate")
    page.set_viewport_size({"width": 390, "height": 1400})
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")  # folded away on a phone
    screenshot(page, "generate-mobile")


def test_a_failed_generation_shows_its_message(app_server, e2e_sim, page):
    e2e_sim.faults.script(JobScript(error="The prompt was refused by the content filter."))
    open_app(page, app_server.url)
    generate(page, "Something the filter refuses")
    page.get_by_text("The generation failed.").wait_for(timeout=45_000)
    expect(page.get_by_text("GenerationError: The prompt was refused by the content filter.")).to_be_visible()


def test_a_reload_of_generate_still_shows_the_finished_videos(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, FOX)
    wait_for_videos(page, 1)
    reload(page)  # a new tab session: this tab's list of generations starts empty
    wait_for_videos(page, 1)
    expect(page.get_by_text(FOX).first).to_be_visible()
    assert video_state(page)["duration"] > 0
    expect(page.locator("[data-testid='stVideo']").first).to_have_attribute("poster", re.compile(r"^data:image/jpeg;base64,"))
    screenshot(page, "generate-after-reload")


def test_history_lists_both_and_survives_reload_and_restart(app_server, e2e_sim, page, tmp_path):
    open_app(page, app_server.url)
    generate(page, FOX)
    e2e_sim.faults.script(JobScript(error="Refused by the content filter."))
    generate(page, STORM, ratio="9:16 portrait")
    wait_for_videos(page, 1)
    page.get_by_text("The generation failed.").wait_for(timeout=45_000)

    with rerun(page):
        page.get_by_role("link", name="History").click()
    rows = export_csv(page)
    assert {(r["prompt"], r["status"]) for r in rows} == {(FOX, "completed"), (STORM, "failed")}
    assert all(r["id"] and r["request"].startswith("{") for r in rows)
    page.get_by_text("Showing 2 of 2 generations").wait_for()
    screenshot(page, "history")

    reload(page)
    assert {r["prompt"] for r in export_csv(page)} == {FOX, STORM}

    app_server.stop()
    restarted = AppServer(app_server.env, app_server.data_dir).start()
    try:
        open_app(page, f"{restarted.url}/history")
        assert {r["prompt"] for r in export_csv(page)} == {FOX, STORM}
    finally:
        restarted.stop()


def test_selecting_a_row_plays_its_video(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, FOX)
    wait_for_videos(page, 1)
    select_first_history_row(page)
    page.get_by_text("Request body").wait_for()
    wait_for_videos(page, 1)
    expect(page).to_have_url(re.compile(r"gen="))
    page.set_viewport_size({"width": 1280, "height": 1300})
    screenshot(page, "history-detail")


def test_a_double_click_creates_one_generation(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    page.get_by_label("Prompt", exact=True).fill(FOX)
    with rerun(page):  # until both clicks' runs are over: a create is sent in the run a click starts
        page.get_by_role("button", name="Generate").dblclick()
    assert e2e_sim.count("create") == 1


def test_pressing_enter_twice_creates_one_generation(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    page.get_by_label("Prompt", exact=True).fill(FOX)
    with rerun(page):  # until both presses' runs are over: a create is sent in the run a press starts
        page.get_by_label("Prompt", exact=True).press("Control+Enter")
        page.get_by_label("Prompt", exact=True).press("Control+Enter")
    assert wait_until(lambda: e2e_sim.count("create") >= 1, timeout=10)
    assert e2e_sim.count("create") == 1


def test_a_first_visit_straight_to_history_gets_the_full_app(app_server, page):
    open_app(page, f"{app_server.url}/history")
    expect(page.get_by_role("link", name="Generate")).to_be_visible()
    expect(page.get_by_text("Live API")).to_be_visible()
    expect(page.get_by_role("link", name="app")).not_to_be_visible()


def test_delete_after_confirming_removes_the_row_and_the_video(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, FOX)
    wait_for_videos(page, 1)
    select_first_history_row(page)
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("cannot be undone", exact=False).wait_for()
    with rerun(page):
        dialog.get_by_role("button", name="Delete").click()
    page.get_by_text("Nothing generated yet.", exact=False).wait_for()
    assert not list((app_server.data_dir / "videos").glob("*.mp4"))
