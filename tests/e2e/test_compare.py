"""Variants and Compare in a real browser: a seed batch confirmed and sent once, then played side by side in sync."""

from __future__ import annotations

import re
import statistics
import zipfile

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_app, screenshot, tick_history_row, wait_for_app

pytestmark = pytest.mark.e2e

PROMPT = "A paper boat drifting down a rainy street, close up"
FRAME = 1 / 24  # the simulator's frame rate
COMPARED = ".st-key-compare-videos video"


def times(page) -> list[dict]:
    return page.evaluate(
        f"""() => [...document.querySelectorAll("{COMPARED}")].map(v => ({{
            t: v.currentTime, paused: v.paused, ready: v.readyState, duration: v.duration, rate: v.playbackRate}}))"""
    )


def spread(state: list[dict]) -> float:
    ts = [v["t"] for v in state]
    return max(ts) - min(ts)


def make_seed_batch(page, count: int = 4, *, prompt: str = PROMPT) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_text("Variants", exact=True).click()
    wait_for_app(page)
    seeds = page.get_by_role("radio", name="Seeds")
    if seeds.get_attribute("aria-checked") != "true":  # the first setting offered is chosen already
        seeds.click()
        wait_for_app(page)
    slider = page.get_by_role("slider", name="How many seeds")
    while int(slider.input_value()) != count:
        slider.press("ArrowLeft" if int(slider.input_value()) > count else "ArrowRight")
    wait_for_app(page)
    page.get_by_role("button", name="Generate").click()
    wait_for_app(page)


def batch_compare_link(page, count: int):
    """The batch's Compare link once it names `count` videos (the header is redrawn with the running cards)."""
    link = page.locator("[class*='st-key-batch-']").get_by_role("link", name="Open in Compare")
    one_id = r"(?:(?!%2C)[^&])+"
    expect(link).to_have_attribute("href", re.compile(r"ids=" + "%2C".join([one_id] * count) + "$"), timeout=30_000)
    return link


def test_a_seed_batch_is_sent_once_and_compared_in_sync(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    make_seed_batch(page, 4)
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("4 paid generations").wait_for()
    assert e2e_sim.count("create") == 0  # nothing is sent before the confirmation
    screenshot(page, "variants-confirm")
    dialog.get_by_role("button", name="Create 4").dblclick()
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('[class*=st-key-batch-] [data-testid=stVideo]').length === 4",
                           timeout=60_000)
    assert e2e_sim.count("create") == 4  # a double click on Confirm still sends the batch once
    batch = page.locator("[class*='st-key-batch-']")
    assert "Batch of 4" in batch.inner_text() and "varying seed" in batch.inner_text()
    page.get_by_role("heading", name="Your generations").scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('[class*=st-key-batch-]').scrollIntoView({block: 'start'})")
    screenshot(page, "variants-batch")

    batch_compare_link(page, 4).click()
    wait_for_app(page)
    ids = re.search(r"ids=([^&]+)", page.url).group(1)
    assert len(ids.replace("%2C", ",").split(",")) == 4
    page.wait_for_function(f"() => [...document.querySelectorAll('{COMPARED}')].filter(v => v.readyState >= 2).length === 4",
                           timeout=30_000)

    page.get_by_role("button", name="Play all").click()
    page.wait_for_timeout(1000)
    samples = []
    for _ in range(20):
        state = times(page)
        assert all(not v["paused"] for v in state), state
        samples.append(spread(state))
        page.wait_for_timeout(100)
    assert max(samples) <= FRAME, f"spread of currentTime across 4 videos: {samples}"
    screenshot(page, "compare")

    page.get_by_role("button", name="Pause all").click()
    page.wait_for_timeout(300)
    state = times(page)
    assert all(v["paused"] for v in state) and spread(state) <= FRAME / 2

    page.get_by_role("slider", name="Position").fill("500")  # halfway
    page.wait_for_function(f"() => [...document.querySelectorAll('{COMPARED}')].every(v => !v.seeking)")
    state = times(page)
    assert abs(statistics.mean(v["t"] for v in state) - state[0]["duration"] / 2) < 0.1 and spread(state) <= FRAME / 2

    page.get_by_role("combobox", name="Speed").select_option("2")
    page.get_by_role("button", name="Play all").click()
    page.wait_for_timeout(800)
    state = times(page)
    assert all(1.8 <= v["rate"] <= 2.2 for v in state) and spread(state) <= FRAME, state

    # The parameters: only the seed differs, and its row is the highlighted one.
    rows = page.locator("[data-testid='stTable'] tbody tr")
    seed_row = rows.filter(has=page.locator("th", has_text=re.compile(r"^Seed$")))
    prompt_row = rows.filter(has=page.locator("th", has_text=re.compile(r"^Prompt$")))
    background = "td => getComputedStyle(td).backgroundColor"
    assert seed_row.locator("td").first.evaluate(background) != prompt_row.locator("td").first.evaluate(background)
    assert prompt_row.locator("td").first.evaluate(background) in ("rgba(0, 0, 0, 0)", "transparent")


def test_a_compare_link_names_unknown_ids_and_compares_the_rest(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    make_seed_batch(page, 2)
    page.get_by_role("dialog").get_by_role("button", name="Create 2").click()
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('[class*=st-key-batch-] [data-testid=stVideo]').length === 2",
                           timeout=60_000)
    link = batch_compare_link(page, 2).get_attribute("href")
    real = re.search(r"ids=([^&]+)", link).group(1).replace("%2C", ",").split(",")
    open_app(page, f"{app_server.url}/compare?ids={real[0]},no-such-generation,{real[1]}")
    assert "no-such-generation" in page.get_by_text("Not in this history").inner_text()
    page.wait_for_function(f"() => document.querySelectorAll('{COMPARED}').length === 2")


def test_rows_selected_in_history_open_in_compare(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    make_seed_batch(page, 3)
    page.get_by_role("dialog").get_by_role("button", name="Create 3").click()
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('[class*=st-key-batch-] [data-testid=stVideo]').length === 3",
                           timeout=60_000)
    page.get_by_role("link", name="History").click()
    wait_for_app(page)
    tick_history_row(page, 0, selected=1)
    tick_history_row(page, 1, selected=2)
    selection = page.locator(".st-key-history-selection")
    assert page.locator("[data-testid='stVideo']").count() == 0  # the details are for one generation
    with page.expect_download() as download:
        selection.get_by_role("button", name="Download demo reel").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert len([n for n in archive.namelist() if "/videos/" in n]) == 2  # the two selected, no more
    selection.get_by_role("link", name="Open in Compare").click()
    wait_for_app(page)
    page.wait_for_function(f"() => [...document.querySelectorAll('{COMPARED}')].filter(v => v.readyState >= 2).length === 2",
                           timeout=30_000)
