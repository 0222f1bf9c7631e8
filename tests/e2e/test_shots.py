"""Shot on shot in a real browser: the last frame of a finished clip starts the next one (and the new clip's first
frame is that frame), a start frame drawn by an image model is animated, and a chain is stitched into one cut
that plays."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.clips import decode_all
from tests.e2e.browser import generate, open_app, screenshot, wait_for_videos
from videogen import frames, media
from videogen.store import Store

pytestmark = pytest.mark.e2e

FIRST = "A paper lantern rising over a dark lake"
NEXT = "The lantern drifts higher as the camera tilts up"
I2V = "Wan 2.6"  # alibaba/wan-2-6-i2v's name in the picker


def close_to(a: Image.Image, b: Image.Image, *, mean: float = 4.0) -> bool:
    """Two pictures the same but for a lossy encode: a small mean difference per channel."""
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB").resize(a.size))
    return max(ImageStat.Stat(diff).mean) <= mean


def test_the_last_frame_starts_the_next_shot_and_the_chain_is_stitched_into_a_cut_that_plays(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    generate(page, FIRST)
    wait_for_videos(page, 1)
    store = Store(app_server.data_dir)
    (first,) = store.records()
    first_clip = first.video_file(store.videos_dir)
    last_frame = decode_all(first_clip)[-1]
    n = frames.probe(first_clip).frames

    with rerun(page):
        page.get_by_role("button", name="Use a frame").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(f"Frame {n} of {n}", exact=False)).to_be_visible()  # the last one by default
    with rerun(page):
        dialog.get_by_role("button", name="Back one").click()
    expect(dialog.get_by_text(f"Frame {n - 1} of {n}", exact=False)).to_be_visible()
    with rerun(page):
        dialog.get_by_role("button", name="Last frame").click()
    expect(dialog.get_by_text(f"Frame {n} of {n}", exact=False)).to_be_visible()
    # The form is on a text-to-video model: the picker offers the first image-to-video one that takes a local frame.
    expect(dialog.get_by_role("combobox", name="Animate it with")).to_have_value(I2V)
    page.mouse.move(0, 0)
    screenshot(page, "frame-picker")
    with rerun(page):
        dialog.get_by_role("button", name="Use this frame").click()
    expect(page.get_by_text(f"Frame {n} (", exact=False).first).to_be_visible()  # the notice on the Generate form
    with rerun(page):
        page.get_by_label("Prompt", exact=True).fill(NEXT)
        page.get_by_role("button", name="Generate").click()
    wait_for_videos(page, 2)

    shot = next(r for r in Store(app_server.data_dir).records() if r.id != first.id)
    assert shot.parent_id == first.id and shot.origin["kind"] == "frame" and shot.origin["frame"] == n - 1
    kept = Image.open(media.reference_path(shot.request["image_url"], app_server.data_dir))
    assert kept.size == last_frame.size and close_to(kept, last_frame, mean=0.5)  # at full resolution, losslessly
    shot_frames = decode_all(store.get(shot.id).video_file(store.videos_dir))
    assert close_to(shot_frames[0], last_frame)  # the new clip starts where the last one ended

    with rerun(page):
        page.get_by_role("link", name="Chain").first.click()
    expect(page.get_by_text("Shot 2", exact=True)).to_be_visible()
    expect(page.get_by_text(f"starts from frame {n}", exact=False)).to_be_visible()
    page.mouse.move(0, 0)
    screenshot(page, "chain")
    with rerun(page):
        page.get_by_role("button", name="Stitch").click()
    cut_player = page.get_by_test_id("stVideo").last
    expect(cut_player).to_be_visible()
    page.wait_for_function(
        "() => { const v = [...document.querySelectorAll(\"[data-testid='stVideo']\")].pop(); return v && v.readyState >= 1; }",
        timeout=30_000,
    )
    duration = cut_player.evaluate("v => v.duration")
    (cut,) = store.cuts()
    lengths = [frames.probe(r.video_file(store.videos_dir)).duration for r in (first, store.get(shot.id))]
    assert abs(duration - cut.duration) < 0.1 and abs(cut.duration - sum(lengths)) < 0.05
    cut_player.evaluate("v => v.play()")
    page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stVideo']\")].pop().currentTime > 0.2", timeout=15_000)
    cut_player.evaluate("v => { v.pause(); v.currentTime = 0; }")
    cut_player.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    screenshot(page, "stitched-cut")


def test_a_start_frame_drawn_by_an_image_model_is_animated(app_server, e2e_sim, page):
    open_app(page, f"{app_server.url}/?model=alibaba/wan-2-6-i2v")
    page.get_by_text("Make a start frame", exact=True).click()  # an expander opens without a run
    with rerun(page):
        page.get_by_label("Start frame prompt", exact=True).fill("A lighthouse on a cliff at dusk, wide shot")
        page.get_by_role("button", name="Draw it").click()
    expect(page.get_by_text("FLUX Schnell drew the start frame", exact=False)).to_be_visible()
    store = Store(app_server.data_dir)
    (image,) = store.images()
    page.get_by_text("Make a start frame", exact=True).click()  # open again, to show the form beside the picture
    page.get_by_test_id("stExpander").filter(has_text="Make a start frame").scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    screenshot(page, "start-frame")
    with rerun(page):
        page.get_by_label("Prompt", exact=True).fill("Waves roll in as the beam sweeps the sea")
        page.get_by_role("button", name="Generate").click()
    wait_for_videos(page, 1)
    (made,) = store.records()
    assert made.request["image_url"] == image.upload_ref
    first_frame = decode_all(made.video_file(store.videos_dir))[0]
    still = Image.open(media.reference_path(image.upload_ref, app_server.data_dir)).convert("RGB")
    # The clip covers its frame with the picture, centred, as the simulator (and the vendors) do.
    assert close_to(first_frame, ImageOps.fit(still, first_frame.size, Image.Resampling.BICUBIC), mean=6.0)
