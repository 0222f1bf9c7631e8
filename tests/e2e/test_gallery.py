"""History's Gallery in a real browser: posters load, hovering scrubs the filmstrip, keys rate and reject
(as the JSON export then says), keys typed in a text field stay text, and ? shows the keys."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.e2e.browser import export_json, generate, open_app, screenshot, wait_for_videos
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

FOX = "A red fox trotting through fresh snow at dawn, soft light"
STORM = "A lighthouse in a storm, waves crashing over the rocks"
BOAT = "A paper boat drifting down a rainy street, close up"
BALLOON = "A hot air balloon over a foggy forest at golden hour"


def gallery_tiles(page):
    return page.locator(".tile")  # the component's tiles; Playwright's locators pierce its shadow root


def test_keys_in_the_gallery_rate_and_reject_and_the_export_says_so(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, BALLOON)
    generate(page, BOAT, ratio="9:16 portrait")
    generate(page, FOX, ratio="16:9 landscape")
    generate(page, STORM, ratio="9:16 portrait")
    wait_for_videos(page, 4)
    # The posters are made beside each saved video in the background, just after it is saved.
    assert wait_until(lambda: len(list((app_server.data_dir / "videos").glob("*.poster.jpg"))) == 4, timeout=30)
    with rerun(page):
        page.get_by_role("link", name="History").click()
    tiles = gallery_tiles(page)
    expect(tiles).to_have_count(4)
    expect(page.locator(".tile .note")).to_have_count(0)  # no placeholder: every tile has its poster
    posters = page.locator(".tile img.poster")
    for i in range(4):
        posters.nth(i).evaluate("img => img.decode()")
        assert posters.nth(i).evaluate("img => img.complete && img.naturalWidth") > 0
    newest = tiles.nth(0)  # the storm, in portrait
    expect(newest).to_have_attribute("title", STORM)
    assert newest.locator(".media").evaluate("m => m.getBoundingClientRect().height > m.getBoundingClientRect().width")

    # Hovering steps through the filmstrip with the mouse's x.
    media = tiles.nth(1).locator(".media")
    box = media.bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
    scrub = tiles.nth(1).locator(".scrub")
    first = scrub.evaluate("s => getComputedStyle(s).backgroundPositionX")
    page.mouse.move(box["x"] + box["width"] - 5, box["y"] + box["height"] / 2)
    expect(scrub).not_to_have_css("background-position-x", first)
    expect(scrub).to_be_visible()
    page.mouse.move(0, 0)

    # j focuses the first tile (the newest), 4 rates it, then j and x reject the fox.
    page.keyboard.press("j")
    expect(tiles.nth(0)).to_have_class(re.compile(r"\bfocused\b"))
    with rerun(page):
        page.keyboard.press("4")
    expect(tiles.nth(0).locator(".stars")).to_have_text("★★★★☆")
    screenshot(page, "gallery")
    page.keyboard.press("j")
    expect(tiles.nth(1)).to_have_class(re.compile(r"\bfocused\b"))
    with rerun(page):
        page.keyboard.press("x")
    expect(gallery_tiles(page)).to_have_count(3)  # Hide rejected is on
    rows = {row["prompt"]: row for row in export_json(page)}
    assert rows[STORM]["rating"] == 4 and not rows[STORM]["rejected"]
    assert FOX not in rows  # the export holds the rows shown, and the fox is rejected
    with rerun(page):
        page.get_by_test_id("stMainBlockContainer").get_by_text("Hide rejected", exact=True).click()
    assert next(row for row in export_json(page) if row["prompt"] == FOX)["rejected"]

    # A "4" typed in a text field is text, and rates nothing.
    search = page.get_by_label("Search prompts")
    search.click()
    search.press("k")  # would move the focus ring
    search.press("4")
    expect(search).to_have_value("k4")
    with rerun(page):
        search.press("Enter")  # "k4" matches no prompt: the gallery is empty meanwhile
    with rerun(page):
        search.fill("")
        search.press("Enter")
    ratings = {row["prompt"]: row["rating"] for row in export_json(page)}
    assert ratings == {STORM: 4, FOX: None, BOAT: None, BALLOON: None}  # the fox had the focus: not rated 4
    page.evaluate("() => document.activeElement.blur()")  # out of the field: keys are the gallery's again

    # Enter opens the focused tile's detail, the same as the table's; Esc closes it.
    with rerun(page):
        page.keyboard.press("Enter")
    detail = page.locator(".st-key-history-detail")
    expect(detail).to_contain_text(FOX)
    expect(page).to_have_url(re.compile(r"gen="))
    with rerun(page):
        page.keyboard.press("Escape")
    expect(detail).to_have_count(0)

    # ? shows the keys; Esc closes them.
    page.keyboard.press("?")
    help_panel = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_panel).to_be_visible()
    expect(help_panel).to_contain_text("rate")
    screenshot(page, "keyboard-help")
    page.keyboard.press("Escape")
    expect(help_panel).to_be_hidden()


def test_a_link_with_view_table_opens_the_table(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, FOX)
    wait_for_videos(page, 1)
    open_app(page, f"{app_server.url}/history?view=Table")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(gallery_tiles(page)).to_have_count(0)
