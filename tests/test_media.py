"""Uploads and media links: checks before anything is encoded, files kept by content, bodies rebuilt for sending."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from videogen import media
from videogen.catalog import Param

IMAGE_PARAM = Param("image_url", {"type": "string", "x-media": "image", "x-base64": True})


def picture(size=(640, 360), fmt="PNG", color=(200, 40, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def test_an_image_is_kept_once_by_content_and_referenced(tmp_path):
    first = media.save_image(picture(), IMAGE_PARAM, tmp_path)
    again = media.save_image(picture(), IMAGE_PARAM, tmp_path)
    assert first == again
    assert first.reference.startswith("upload:") and first.reference.endswith(".png")
    assert (first.width, first.height, first.mime) == (640, 360, "image/png")
    assert list((tmp_path / "uploads").iterdir()) == [first.path]


@pytest.mark.parametrize("fmt, ext, mime", [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp")])
def test_png_jpeg_and_webp_are_taken_by_their_bytes(tmp_path, fmt, ext, mime):
    upload = media.save_image(picture(fmt=fmt), IMAGE_PARAM, tmp_path)
    assert upload.reference.endswith("." + ext) and upload.mime == mime


@pytest.mark.parametrize(
    "data, words",
    [
        (b"%PDF-1.7 not an image at all", "not a PNG, JPEG or WebP image"),
        (picture()[:100], "not a PNG, JPEG or WebP image"),  # truncated
        (picture(fmt="GIF"), "GIF image; upload a PNG, JPEG or WebP"),
    ],
)
def test_files_that_are_not_usable_images_are_refused_and_not_kept(tmp_path, data, words):
    with pytest.raises(media.MediaError, match=words):
        media.save_image(data, IMAGE_PARAM, tmp_path)
    assert not (tmp_path / "uploads").exists()


def test_the_size_limit_is_checked_before_decoding(tmp_path):
    small_limit = Param("image_url", {**IMAGE_PARAM.rules, "x-max-bytes": 1000})
    with pytest.raises(media.MediaError, match=r"The file is .* MB; the limit for image url is 0.0 MB"):
        media.save_image(b"\x00" * 5000, small_limit, tmp_path)
    # Where the vendor publishes none, 20 MB.
    assert media.max_bytes(IMAGE_PARAM) == 20 * 1024 * 1024
    with pytest.raises(media.MediaError, match="limit for image url is 20.0 MB"):
        media.save_image(b"\x00" * (20 * 1024 * 1024 + 1), IMAGE_PARAM, tmp_path)


def test_published_dimension_and_format_rules_are_checked(tmp_path):
    strict = Param("image_url", {**IMAGE_PARAM.rules, "x-min-side": 300, "x-aspect-range": [0.4, 2.5], "x-formats": ["jpg", "png"]})
    with pytest.raises(media.MediaError, match="at least 300 pixels on the shorter side"):
        media.save_image(picture((800, 200)), strict, tmp_path)
    with pytest.raises(media.MediaError, match="ratios from 0.4 to 2.5"):
        media.save_image(picture((1600, 400)), strict, tmp_path)
    with pytest.raises(media.MediaError, match="takes JPG, PNG for image url, not WEBP"):
        media.save_image(picture((640, 640), "WEBP"), strict, tmp_path)
    assert media.save_image(picture((640, 640), "JPEG"), strict, tmp_path).mime == "image/jpeg"


def test_expand_swaps_references_for_data_urls_and_leaves_the_rest(tmp_path):
    upload = media.save_image(picture(), IMAGE_PARAM, tmp_path)
    body = {"model": "m", "prompt": "upload:not-a-reference", "image_url": upload.reference,
            "image_urls": [upload.reference, "https://example.com/a.png"]}
    sent = media.expand(body, tmp_path)
    prefix = "data:image/png;base64,"
    assert sent["image_url"].startswith(prefix)
    assert base64.b64decode(sent["image_url"][len(prefix):]) == upload.path.read_bytes()
    assert sent["image_urls"][1] == "https://example.com/a.png" and sent["image_urls"][0] == sent["image_url"]
    assert sent["prompt"] == "upload:not-a-reference"
    assert body["image_url"] == upload.reference  # the recorded body is not touched
    assert media.references(body) == [upload.reference, upload.reference]


def test_a_reference_whose_file_is_gone_is_a_clear_error(tmp_path):
    upload = media.save_image(picture(), IMAGE_PARAM, tmp_path)
    upload.path.unlink()
    with pytest.raises(media.MediaError, match="no longer in the data folder"):
        media.expand({"image_url": upload.reference}, tmp_path)


@pytest.mark.parametrize(
    "link, words",
    [
        ("http://example.com/a.mp4", "Use an https:// link"),
        ("ftp://example.com/a.mp4", "public https:// link"),
        ("example.com/a.mp4", "public https:// link"),
        ("https://", "public https:// link"),
    ],
)
def test_links_must_be_https(link, words):
    with pytest.raises(media.MediaError, match=words):
        media.check_link(link, "video")


def test_a_good_link_is_trimmed():
    assert media.check_link("  https://cdn.example.com/v.mp4 \n", "video") == "https://cdn.example.com/v.mp4"
    assert media.is_loopback_link("http://127.0.0.1:8765/videos/x.mp4") and not media.is_loopback_link("https://example.com")
