"""Other models in a real browser: the picker, an image upload that becomes the first frame, a video fed back in."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.e2e.browser import open_app, screenshot, simple_model, wait_for_videos
from videogen import catalog
from videogen.store import Store

pytestmark = pytest.mark.e2e

PROMPT = "The camera pushes in slowly while the colours breathe"
# Mean absolute difference per channel (0..255) allowed between the first frame and the image:
# H.264 at the simulator's quality blurs edges a little; a wrong or shifted picture differs by far more.
FIRST_FRAME_TOLERANCE = 12


def quadrants(path, size=(640, 360)) -> Image.Image:
    """Four flat colours: a wrong crop, a flip or a shift shows at once."""
    image = Image.new("RGB", size)
    w, h = size
    for (x, y), color in zip(
        [(0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2)], [(230, 40, 40), (40, 200, 60), (40, 80, 230), (240, 220, 40)]
    ):
        image.paste(color, (x, y, x + w // 2, y + h // 2))
    image.save(path)
    return image


def first_frame(page, index: int = 0) -> Image.Image:
    """The video's frame at 0 s, as the browser decodes it, read back through a canvas."""
    data_url = (
        page.locator("[data-testid='stVideo']")
        .nth(index)
        .evaluate(
            """async v => {
            v.pause();
            // Seek to 0 even when already there: the seek makes the browser decode that frame, where a video
            // with only its metadata loaded would draw as black.
            await new Promise(done => { v.addEventListener('seeked', done, {once: true}); v.currentTime = 0; });
            if (v.readyState < 2) {
                await new Promise(done => v.addEventListener('loadeddata', done, {once: true}));
            }
            const canvas = document.createElement('canvas');
            canvas.width = v.videoWidth; canvas.height = v.videoHeight;
            canvas.getContext('2d').drawImage(v, 0, 0);
            return canvas.toDataURL('image/png');
        }"""
        )
    )
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB")


def test_an_uploaded_image_becomes_the_first_frame_then_its_video_feeds_a_video_model(app_server, e2e_sim, page, tmp_path):
    i2v = simple_model("image-to-video", "image_url")
    open_app(page, f"{app_server.url}/?model={i2v}")
    assert i2v in page.get_by_role("combobox", name="Model").input_value() or page.get_by_text(i2v).count()

    image = quadrants(tmp_path / "quadrants.png")
    with rerun(page):
        page.locator(".st-key-media-image_url [data-testid='stFileUploaderDropzoneInput']").set_input_files(tmp_path / "quadrants.png")
    page.locator(".st-key-media-image_url [data-testid='stImage'] img").first.wait_for()
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    screenshot(page, "image-to-video-form")

    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    wait_for_videos(page, 1)
    (job,) = e2e_sim.jobs.values()
    assert job.model == i2v and job.body["image_url"].startswith("data:image/png;base64,")

    frame = first_frame(page)
    expected = ImageOps.fit(image, frame.size)  # scaled to cover, centre-cropped
    difference = ImageStat.Stat(ImageChops.difference(frame, expected)).mean
    assert max(difference) < FIRST_FRAME_TOLERANCE, difference

    # The finished generation's video, fed to a video-to-video model.
    v2v = simple_model("video-to-video", "video_url")
    open_app(page, f"{app_server.url}/?model={v2v}")
    page.get_by_role("combobox", name="Use a finished generation").click()
    with rerun(page):
        page.get_by_role("option").first.click()
    page.get_by_label("Prompt", exact=True).fill("Make it look like an old film")
    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    jobs = [j for j in e2e_sim.jobs.values() if j.model == v2v]
    finished = next(r for r in Store(app_server.data_dir).records() if r.model == i2v)
    assert len(jobs) == 1 and jobs[0].body["video_url"] == finished.video_url
    wait_for_videos(page, 1)  # a fresh page shows this session's generations: the new one
    frame = first_frame(page)
    # Made from the input: its first frame is the first clip's (the image at 16:9), cropped to this clip's shape.
    expected = ImageOps.fit(ImageOps.fit(image, (1280, 720)), frame.size)
    difference = ImageStat.Stat(ImageChops.difference(frame, expected)).mean
    assert max(difference) < FIRST_FRAME_TOLERANCE, difference


def test_a_file_that_is_not_an_image_is_refused_beside_its_field(app_server, e2e_sim, page, tmp_path):
    i2v = simple_model("image-to-video", "image_url")
    open_app(page, f"{app_server.url}/?model={i2v}")
    fake = tmp_path / "holiday.png"
    fake.write_bytes(b"%PDF-1.7\nthis is a document, not a picture\n")
    with rerun(page):
        page.locator(".st-key-media-image_url [data-testid='stFileUploaderDropzoneInput']").set_input_files(fake)
    field = page.locator(".st-key-media-image_url")
    expect(field.get_by_text("holiday.png: That file is not a PNG, JPEG or WebP image.")).to_be_visible()
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    assert e2e_sim.count("create") == 0


def test_a_file_over_the_models_limit_is_refused_beside_its_field(app_server, e2e_sim, page, tmp_path):
    i2v = simple_model("image-to-video", "image_url")
    limit = catalog.get(i2v).param("image_url").max_bytes or 20 * 2**20  # bytes
    open_app(page, f"{app_server.url}/?model={i2v}")
    big = tmp_path / "huge.png"
    quadrants(big)
    with big.open("ab") as f:  # still a PNG to anything that reads its header; too big to send
        f.write(b"\0" * (limit + 2**20))  # one MB over
    page.locator(".st-key-media-image_url [data-testid='stFileUploaderDropzoneInput']").set_input_files(big)
    # The browser refuses it before upload, with the model's limit (the drop zone names it too).
    refusal = page.locator(".st-key-media-image_url").get_by_text(f"File must be {limit / 2**20:.1f}MB or smaller.")
    refusal.wait_for()
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    assert e2e_sim.count("create") == 0


def test_the_picker_searches_by_name(app_server, page):
    open_app(page, app_server.url)
    picker = page.get_by_role("combobox", name="Model")
    picker.click()
    page.keyboard.type("kling 1.6 standard")
    with rerun(page):
        page.get_by_role("option", name="image to video", exact=False).first.click()
    expect(page).to_have_url(re.compile(r"model=kling"))
    screenshot(page, "model-picker")


def test_the_form_keeps_its_model_and_values_through_a_visit_to_history(app_server, e2e_sim, page):
    """To iterate, a person generates, looks at History, comes back: the form is as they left it."""
    i2v = simple_model("image-to-video", "image_url")
    open_app(page, f"{app_server.url}/?model={i2v}")
    with rerun(page):
        page.get_by_label("or an https link").fill("https://example.com/still.png")
        page.keyboard.press("Tab")
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    with rerun(page):
        page.get_by_role("button", name="Generate").click()  # a form's values reach the server when it is sent
    assert e2e_sim.count("create") == 1
    nav = page.get_by_test_id("stSidebarNavItems")
    with rerun(page):
        nav.get_by_role("link", name="History").click()
    with rerun(page):
        nav.get_by_role("link", name="Generate").click()
    expect(page.get_by_role("combobox", name="Model")).to_have_value(re.compile(re.escape(i2v)))
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(PROMPT)
    expect(page.get_by_label("or an https link")).to_have_value("https://example.com/still.png")
