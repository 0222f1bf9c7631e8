from __future__ import annotations

import pytest

from tests.helpers import wait_until
from videogen.polling import DownloadError, DownloadLimits, download_video, is_allowed_video_url, looks_like_video, video_filename
from videogen.simulator import Fault


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://cdn.aimlapi.com/generations/x.mp4?sig=abc", True),
        ("http://127.0.0.1:8765/videos/x.mp4", True),
        ("http://localhost:8765/videos/x.mp4", True),
        ("http://[::1]:8765/videos/x.mp4", True),
        ("http://cdn.aimlapi.com/x.mp4", False),
        ("http://10.0.0.5/x.mp4", False),
        ("javascript:alert(1)", False),
        ("data:video/mp4;base64,AAAA", False),
        ("file:///etc/passwd", False),
        ("ftp://cdn/x.mp4", False),
        ("", False),
        (None, False),
    ],
)
def test_only_https_or_loopback_links_are_used(url, allowed):
    assert is_allowed_video_url(url) is allowed


HOSTILE_IDS = ["e4d3af90-f643-44d0-9dcc-95c5b07f4bbf:veo2", "../../etc/passwd", "..", "/abs/path", "a\\b:c", "", "ü" * 300]


@pytest.mark.parametrize("gen_id", HOSTILE_IDS)
def test_file_names_are_safe(gen_id, tmp_path):
    name = video_filename(gen_id)
    assert "/" not in name and "\\" not in name and ":" not in name and not name.startswith(".")
    assert len(name) < 100 and name.endswith(".mp4")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_file_names_do_not_collide_after_sanitising():
    assert video_filename("a:b") != video_filename("a_b") != video_filename("a/b")


def test_video_magic():
    assert looks_like_video(b"\x00\x00\x00\x20ftypisom")
    assert looks_like_video(b"\x1a\x45\xdf\xa3rest")
    assert not looks_like_video(b"<!doctype html>")


@pytest.fixture
def partial(tmp_path_factory):
    """Where downloads in progress go: outside the folder each test inspects, on the same file system."""
    return tmp_path_factory.mktemp("partial")


def finished_video_url(sim, client):
    gen = client.create({"model": "veo2", "prompt": "download me"})
    result = {}
    assert wait_until(lambda: (result.update(g=client.fetch(gen.id)) or result["g"].video_url) is not None)
    return gen.id, result["g"].video_url


def test_download_saves_a_video(sim, client, tmp_path, partial):
    gen_id, url = finished_video_url(sim, client)
    path = download_video(url, tmp_path, gen_id, partial_dir=partial, allow_local=True)
    assert path.parent == tmp_path and looks_like_video(path.read_bytes()[:12])
    assert not list(tmp_path.glob(".partial-*")) and not list(partial.iterdir())
    video_request = [r for r in sim.requests if r.endpoint == "video"][-1]
    assert "Authorization" not in video_request.headers  # the key never travels to the CDN


def test_download_refuses_html(sim, client, tmp_path, partial):
    gen_id, url = finished_video_url(sim, client)
    sim.faults.inject("video", Fault.html())
    with pytest.raises(DownloadError, match="text/html") as info:
        download_video(url, tmp_path, gen_id, partial_dir=partial, allow_local=True)
    assert info.value.permanent
    assert not list(tmp_path.iterdir())


def test_download_is_size_capped(sim, client, tmp_path, partial):
    gen_id, url = finished_video_url(sim, client)
    with pytest.raises(DownloadError, match="larger than") as info:
        download_video(url, tmp_path, gen_id, partial_dir=partial, allow_local=True, limits=DownloadLimits(max_bytes=1024))
    assert info.value.permanent and not list(tmp_path.iterdir())


def test_download_refuses_a_disguised_file(sim, client, tmp_path, partial):
    """A video/mp4 content type is not enough: the bytes must be a video too."""
    gen_id, url = finished_video_url(sim, client)
    video = sim.videos_dir / url.split("/videos/")[1].split("?")[0]
    original = video.read_bytes()
    try:
        video.write_bytes(b"<html>not a video</html>" * 10)
        with pytest.raises(DownloadError, match="did not serve a video"):
            download_video(url, tmp_path, gen_id, partial_dir=partial, allow_local=True)
    finally:
        video.write_bytes(original)


def test_download_failures_are_typed(sim, client, tmp_path, partial):
    gen_id, url = finished_video_url(sim, client)
    sim.faults.inject("video", Fault.http(404))
    with pytest.raises(DownloadError) as gone:
        download_video(url, tmp_path, gen_id, partial_dir=partial, allow_local=True)
    assert gone.value.permanent
    sim.faults.inject("video", Fault.http(503))
    with pytest.raises(DownloadError) as busy:
        download_video(url, tmp_path, gen_id, partial_dir=partial, allow_local=True)
    assert not busy.value.permanent
    with pytest.raises(DownloadError, match="not https"):
        download_video(url.replace("http://127.0.0.1", "http://example.com"), tmp_path, gen_id, partial_dir=partial, allow_local=True)


def test_a_hostile_id_cannot_escape_the_folder(sim, client, tmp_path, partial):
    _, url = finished_video_url(sim, client)
    videos = tmp_path / "videos"
    videos.mkdir()
    path = download_video(url, videos, "../../../escaped:veo2", partial_dir=partial, allow_local=True)
    assert path.parent == videos.resolve()
    assert list(tmp_path.iterdir()) == [videos]
