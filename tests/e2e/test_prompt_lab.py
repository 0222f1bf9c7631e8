"""The prompt lab in a real browser: a reviewed rewrite becomes a version of one's own text, and a downloaded
video dropped on Restore refills the form with the recipe it carries."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.e2e.browser import export_json, generate, open_app, screenshot, wait_for_videos
from videogen import seeds
from videogen.catalog import get
from videogen.simulator.render import render_clip

pytestmark = pytest.mark.e2e

DRAFT = "A lighthouse in a storm, waves crashing over the rocks"


def prompt_box(page):
    return page.get_by_label("Prompt", exact=True)


def test_an_improved_prompt_is_reviewed_used_and_generated_as_a_version_with_its_seed(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, DRAFT)  # the first take, with the person's own words
    wait_for_videos(page, 1)

    with rerun(page):
        page.get_by_role("button", name="Improve prompt").click()
    panel = page.locator(".st-key-improve-panel")
    expect(panel.locator("[data-testid='improve-diff'] ins").first).to_be_visible()
    expect(panel).to_contain_text("A demo's rewrite")
    assert e2e_sim.count("create") == 1 and e2e_sim.count("chat") == 1  # a proposal only
    rewritten = panel.get_by_label("Improved prompt").input_value()
    assert rewritten.startswith(DRAFT) and len(rewritten) > len(DRAFT)
    page.mouse.move(0, 0)  # no tooltip over the form
    panel.scroll_into_view_if_needed()
    screenshot(page, "improve-prompt")

    with rerun(page):
        panel.get_by_role("button", name="Use this prompt").click()
    expect(prompt_box(page)).to_have_value(rewritten)
    assert e2e_sim.count("create") == 1
    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    wait_for_videos(page, 2)

    with rerun(page):
        page.get_by_role("link", name="History").click()
    rows = {row["prompt"]: row for row in export_json(page)}
    first, second = rows[DRAFT], rows[rewritten]
    assert second["parent_id"] == first["id"]
    assert second["origin"]["kind"] == "rewrite" and second["origin"]["from_prompt"] == DRAFT
    assert second["origin"]["chat_model"] == "gpt-4o-mini"
    low, high = seeds.seed_range(seeds.seed_param(get("veo2")))
    for row in (first, second):  # no seed was typed: each was drawn, sent and recorded
        assert low <= row["request"]["seed"] <= high
    sent = [job.body.get("seed") for job in e2e_sim.jobs.values()]
    assert sorted(sent) == sorted(row["request"]["seed"] for row in (first, second))

    # The rewrite's detail names its change from the person's own words, and its Lineage shows both takes.
    open_app(page, f"{app_server.url}/history?gen={quote(second['id'])}")
    expect(page.get_by_text("rewritten by gpt-4o-mini").first).to_be_visible()
    page.get_by_text("Lineage", exact=True).click()  # an expander opens in the browser, without a run
    expect(page.locator(".lineage-diff ins").first).to_be_visible()
    page.locator("[data-testid='stExpander']").filter(has_text="Lineage").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.move(0, 0)
    screenshot(page, "lineage")


def test_a_downloaded_video_dropped_on_restore_refills_the_form(app_server, e2e_sim, page, tmp_path):
    open_app(page, app_server.url)
    generate(page, DRAFT, ratio="9:16 portrait", duration=7)
    wait_for_videos(page, 1)
    page.wait_for_function("() => !!document.querySelector(\"[data-testid='stVideo']\")?.getAttribute('poster')", timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").first.click()
    saved = tmp_path / "downloaded.mp4"
    download.value.save_as(saved)

    generate(page, "Something else entirely", ratio="16:9 landscape", duration=5)
    expect(prompt_box(page)).to_have_value("Something else entirely")
    page.get_by_text("Restore from a video").click()
    dropzone = page.locator("[data-testid='stExpander'] [data-testid='stFileUploaderDropzoneInput']")
    with rerun(page):
        dropzone.set_input_files(saved)
    expect(prompt_box(page)).to_have_value(DRAFT)
    expect(page.get_by_role("radio", name="9:16 portrait")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("radio", name="7", exact=True)).to_have_attribute("aria-checked", "true")
    expect(page.get_by_text("Restored the recipe of generation")).to_be_visible()
    screenshot(page, "restore-from-video")

    # A video that carries no recipe is named as such, and the form stays as it is.
    plain = render_clip(tmp_path / "plain.mp4", prompt="Made elsewhere", aspect_ratio="16:9", duration=1, seed=3, resolution="240p")
    if not dropzone.is_visible():
        page.get_by_text("Restore from a video").click()
    with rerun(page):
        dropzone.set_input_files(plain)
    expect(page.get_by_text("plain.mp4: The video holds no recipe")).to_be_visible()
    expect(prompt_box(page)).to_have_value(DRAFT)


def test_alt_up_and_down_in_the_prompt_box_step_through_earlier_prompts(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, "A fox in snow")
    generate(page, DRAFT)
    box = prompt_box(page)
    box.fill("my own draft, not sent")
    with rerun(page):
        box.press("Alt+ArrowUp")
    expect(box).to_have_value(DRAFT)
    expect(box).to_be_focused()  # typing can go on
    with rerun(page):
        box.press("Alt+ArrowUp")
    expect(box).to_have_value("A fox in snow")
    with rerun(page):
        box.press("Alt+ArrowDown")
    with rerun(page):
        box.press("Alt+ArrowDown")
    expect(box).to_have_value("my own draft, not sent")
    assert e2e_sim.count("create") == 2
