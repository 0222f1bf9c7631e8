"""Uploads and media links: checks before anything is encoded, files kept by content, bodies rebuilt for sending."""

from __future__ import annotations

import base64
import io
import re
import struct
import warnings
import zlib
from urllib.parse import urlsplit

import pytest
from PIL import Image

from videogen import media
from videogen.api import is_loopback_host
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
    body = {
        "model": "m",
        "prompt": "upload:not-a-reference",
        "image_url": upload.reference,
        "image_urls": [upload.reference, "https://example.com/a.png"],
    }
    sent = media.expand(body, tmp_path)
    prefix = "data:image/png;base64,"
    assert sent["image_url"].startswith(prefix)
    assert base64.b64decode(sent["image_url"][len(prefix) :]) == upload.path.read_bytes()
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
    assert is_loopback_host(urlsplit("http://127.0.0.1:8765/videos/x.mp4").hostname) and not is_loopback_host(
        urlsplit("https://example.com").hostname
    )


# -- hostile input: paths for links, huge canvases in tiny files -------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/etc/passwd",
        "/work/main/data/history.sqlite3",
        "../../x.png",
        "./secret.png",
        "~/.ssh/id_rsa",
        "file:///etc/hosts",
        "C:\\Windows\\win.ini",
    ],
)
def test_a_file_path_is_not_a_link(text):
    with pytest.raises(media.MediaError, match="That is a file path, not a link.*public https:// link"):
        media.check_link(text, "image")
    assert media.browser_link(text, "image") is None


def test_only_a_checked_https_link_that_names_no_local_file_goes_to_the_browser(tmp_path, monkeypatch):
    assert media.browser_link(" https://cdn.example.com/v.mp4 ", "video") == "https://cdn.example.com/v.mp4"
    for refused in (None, "", "http://cdn.example.com/v.mp4", "javascript:alert(1)", "https://", "https://[::1"):
        assert media.browser_link(refused, "video") is None
    # Streamlit reads a local file first when the text names one: a "link" that is also a path is refused.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "https:" / "cdn.example.com").mkdir(parents=True)
    (tmp_path / "https:" / "cdn.example.com" / "v.mp4").write_bytes(b"local secret")
    assert media.browser_link("https://cdn.example.com/v.mp4", "video") is None


def test_only_files_inside_the_apps_own_folder_are_served(tmp_path):
    videos = tmp_path / "data" / "videos"
    videos.mkdir(parents=True)
    (videos / "a.mp4").write_bytes(b"video")
    (tmp_path / "secret.txt").write_text("secret")
    (videos / "link.mp4").symlink_to(tmp_path / "secret.txt")
    assert media.own_file(str(videos / "a.mp4"), videos) == (videos / "a.mp4").resolve()
    for refused in (
        None,
        "",
        str(tmp_path / "secret.txt"),
        str(videos / ".." / ".." / "secret.txt"),
        str(videos / "link.mp4"),
        str(videos),
        str(videos / "gone.mp4"),
        "/etc/passwd",
    ):
        assert media.own_file(refused, videos) is None, refused


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a `width` x `height` canvas in under 100 bytes: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + frame + b"\xff\xd9"


@pytest.mark.parametrize(
    "data, words",
    [
        (png_header(50_000, 50_000), "50,000×50,000 pixels (2,500 megapixels); the limit is 40 megapixels"),
        (png_header(7_000, 6_000), "7,000×6,000 pixels (42 megapixels)"),  # under Pillow's own threshold
        (png_header(10_000, 10_000), "10,000×10,000 pixels"),  # where Pillow only warns
        (jpeg_header(50_000, 50_000), "50,000×50,000 pixels"),
    ],
)
def test_an_image_over_the_pixel_cap_is_refused_from_its_header_and_pillow_never_complains(tmp_path, data, words):
    assert len(data) < 200
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(media.MediaError, match=re.escape(words)):
            media.save_image(data, IMAGE_PARAM, tmp_path)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert not (tmp_path / "uploads").exists()


@pytest.mark.parametrize(
    "fmt, options",
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
        ("WEBP", {"exif": b"Exif\x00\x00"}),
    ],
)
def test_the_header_states_the_size_pillow_decodes(fmt, options):
    out = io.BytesIO()
    Image.new("RGB", (321, 123), (1, 2, 3)).save(out, fmt, **options)
    assert media.header_size(out.getvalue()) == (321, 123)
    assert media.header_size(out.getvalue()[:10]) is None  # cut short: no size, and Pillow's verify() decides


def test_an_image_at_the_cap_is_taken(tmp_path):
    side = int(media.MAX_PIXELS**0.5)
    picture_at_cap = io.BytesIO()
    Image.new("L", (side, side)).save(picture_at_cap, "PNG")
    assert media.save_image(picture_at_cap.getvalue(), IMAGE_PARAM, tmp_path).width == side
