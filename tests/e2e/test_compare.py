"""Variants and Compare in a real browser: a seed batch confirmed and sent once, then played side by side in sync."""

from __future__ import annotations

import re
import statistics
import zipfile

import pytest
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.e2e.browser import make_seed_batch, open_app, screenshot, tick_history_row

pytestmark = pytest.mark.e2e

FRAME = 1 / 24  # the simulator's frame rate
COMPARED = ".st-key-compare-videos video"
BATCH_VIDEOS = "[class*='st-key-batch-'] [data-testid='stVideo']"


def times(page) -> list[dict]:
    return page.evaluate(
        f"""() => [...document.querySelectorAll("{COMPARED}")].map(v => ({{
            t: v.currentTime, paused: v.paused, ready: v.readyState, duration: v.duration, rate: v.playbackRate}}))"""
    )


def spread(state: list[dict]) -> float:
    ts = [v["t"] for v in state]
    return max(ts) - min(ts)


def wait_for_playback(page, *, until: float) -> None:
    """Until every compared video is playing and the furthest has reached `until` seconds of its clip."""
    page.wait_for_function(
        """([selector, until]) => { const vs = [...document.querySelectorAll(selector)];
            return vs.length > 0 && vs.every(v => !v.paused) && Math.max(...vs.map(v => v.currentTime)) >= until; }""",
        arg=[COMPARED, until],
    )


def readings_while_playing(page, count: int, every: float) -> list[list[dict]]:
    """`count` readings of the compared videos, `every` seconds of playback apart (by the furthest one's clock);
    the readings stop at the first in which one is paused."""
    return page.evaluate(
        """async ([selector, count, every]) => {
            const vs = [...document.querySelectorAll(selector)];
            const reading = () => vs.map(v => ({t: v.currentTime, paused: v.paused}));
            const furthest = () => Math.max(...vs.map(v => v.currentTime));
            const readings = [];
            let next = furthest();
            while (readings.length < count) {
                await new Promise(frame => requestAnimationFrame(frame));
                if (vs.some(v => v.paused)) { readings.push(reading()); break; }
                if (furthest() >= next) { readings.push(reading()); next += every; }
            }
            return readings;
        }""",
        [COMPARED, count, every],
    )


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
    with rerun(page):
        dialog.get_by_role("button", name="Create 4").dblclick()
    expect(page.locator(BATCH_VIDEOS)).to_have_count(4, timeout=60_000)
    assert e2e_sim.count("create") == 4  # a double click on Confirm still sends the batch once
    batch = page.locator("[class*='st-key-batch-']")
    expect(batch).to_contain_text("Batch of 4")
    expect(batch).to_contain_text("varying seed")
    page.get_by_role("heading", name="Your generations").scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('[class*=st-key-batch-]').scrollIntoView({block: 'start'})")
    screenshot(page, "variants-batch")

    with rerun(page):
        batch_compare_link(page, 4).click()
    ids = re.search(r"ids=([^&]+)", page.url).group(1)
    assert len(ids.replace("%2C", ",").split(",")) == 4
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{COMPARED}')].filter(v => v.readyState >= 2).length === 4", timeout=30_000
    )

    started = max(v["t"] for v in times(page))
    page.get_by_role("button", name="Play all").click()
    wait_for_playback(page, until=started + 1.0)  # a second in, then twenty readings a tenth of a second apart
    samples = []
    for state in readings_while_playing(page, 20, 0.1):
        assert all(not v["paused"] for v in state), state
        samples.append(spread(state))
    assert len(samples) == 20 and max(samples) <= FRAME, f"spread of currentTime across 4 videos: {samples}"
    screenshot(page, "compare")

    page.get_by_role("button", name="Pause all").click()
    page.wait_for_function(f"() => [...document.querySelectorAll('{COMPARED}')].every(v => v.paused && !v.seeking)")
    state = times(page)
    assert all(v["paused"] for v in state) and spread(state) <= FRAME / 2

    page.get_by_role("slider", name="Position").fill("500")  # halfway
    page.wait_for_function(f"() => [...document.querySelectorAll('{COMPARED}')].every(v => !v.seeking)")
    state = times(page)
    assert abs(statistics.mean(v["t"] for v in state) - state[0]["duration"] / 2) < 0.1 and spread(state) <= FRAME / 2

    page.get_by_role("combobox", name="Speed").select_option("2")
    started = max(v["t"] for v in state)
    page.get_by_role("button", name="Play all").click()
    wait_for_playback(page, until=started + 1.6)  # eight tenths of a second at double speed
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
    with rerun(page):
        page.get_by_role("dialog").get_by_role("button", name="Create 2").click()
    expect(page.locator(BATCH_VIDEOS)).to_have_count(2, timeout=60_000)
    link = batch_compare_link(page, 2).get_attribute("href")
    real = re.search(r"ids=([^&]+)", link).group(1).replace("%2C", ",").split(",")
    open_app(page, f"{app_server.url}/compare?ids={real[0]},no-such-generation,{real[1]}")
    expect(page.get_by_text("Not in this history")).to_contain_text("no-such-generation")
    expect(page.locator(COMPARED)).to_have_count(2)


def test_rows_selected_in_history_open_in_compare(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    make_seed_batch(page, 3)
    with rerun(page):
        page.get_by_role("dialog").get_by_role("button", name="Create 3").click()
    expect(page.locator(BATCH_VIDEOS)).to_have_count(3, timeout=60_000)
    with rerun(page):
        page.get_by_role("link", name="History").click()
    tick_history_row(page, 0, selected=1)
    tick_history_row(page, 1, selected=2)
    selection = page.locator(".st-key-history-selection")
    expect(page.locator("[data-testid='stVideo']")).to_have_count(0)  # the details are for one generation
    with page.expect_download() as download:
        selection.get_by_role("button", name="Download demo reel").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert len([n for n in archive.namelist() if "/videos/" in n]) == 2  # the two selected, no more
    with rerun(page):
        selection.get_by_role("link", name="Open in Compare").click()
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{COMPARED}')].filter(v => v.readyState >= 2).length === 2", timeout=30_000
    )
