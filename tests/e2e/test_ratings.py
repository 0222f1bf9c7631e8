"""Ratings in a real browser: stars clicked on a card are the store's at once, and History's export carries them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.e2e.browser import export_json, generate, open_app, screenshot, wait_for_videos

pytestmark = pytest.mark.e2e

FOX = "A red fox trotting through fresh snow at dawn, soft light"


def test_four_stars_on_a_card_are_in_historys_json_export(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, FOX)
    wait_for_videos(page, 1)
    fourth = page.get_by_role("radio", name="4 out of 5 stars")
    with rerun(page):
        fourth.click()
    expect(fourth).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("button", name="Reject")).to_be_visible()
    page.evaluate("() => document.querySelectorAll('video').forEach(v => { v.pause(); v.currentTime = 2.5; })")
    page.wait_for_function("() => [...document.querySelectorAll('video')].every(v => !v.seeking && v.readyState >= 2)")
    screenshot(page, "card-rating")

    with rerun(page):
        page.get_by_role("link", name="History").click()
    (row,) = export_json(page)
    assert (row["prompt"], row["rating"], row["rejected"]) == (FOX, 4, False)
