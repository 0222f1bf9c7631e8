"""Loops: GIF and animated WebP that Pillow reads back with the frames expected, ping-pong without repeated ends,
the width and rate asked for, and a size limit that suggests a width that fits."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.clips import difference, make_clip
from videogen import loops
from videogen.loops import LoopError, LoopTooLargeError, make_loop


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """2 s at 24 fps, 320×180, moving on every frame."""
    return make_clip(tmp_path_factory.mktemp("loop-clips") / "clip.mp4", size="320x180", seconds=2)


def read_back(path, fmt):
    with Image.open(path) as image:
        assert image.format == {"gif": "GIF", "webp": "WEBP"}[fmt]
        assert image.is_animated
        sizes = set()
        for n in range(image.n_frames):
            image.seek(n)
            sizes.add(image.size)
        return image.n_frames, sizes, image.info.get("loop")


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_a_loop_has_a_frame_per_step_of_the_rate_asked_for(clip, tmp_path, fmt):
    result = make_loop(clip, tmp_path / f"loop.{fmt}", fmt=fmt, width=160, fps=12, in_s=0.5, out_s=1.5)
    frames, sizes, loop = read_back(result.path, fmt)
    assert frames == result.frames == 12  # one second at 12 fps
    assert sizes == {(160, 90)} and (result.width, result.height) == (160, 90)
    assert loop == 0  # for ever
    assert result.size_bytes == result.path.stat().st_size and result.fps == 12


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_ping_pong_goes_back_without_repeating_either_end(clip, tmp_path, fmt):
    result = make_loop(clip, tmp_path / f"loop.{fmt}", fmt=fmt, width=160, fps=12, in_s=0.5, out_s=1.5, pingpong=True)
    assert read_back(result.path, fmt)[0] == result.frames == 2 * 12 - 2
    with Image.open(result.path) as image:
        at = {n: image.seek(n) or image.convert("RGB") for n in (0, 1, 10, 11, 12, 21)}
    # After the last frame forwards (11) comes the one before it (10), and the loop ends on the second (1),
    # to start again on the first. A lossy WebP shows the same frame a little differently each time.
    for shown, again, neighbour in ((12, 10, 11), (21, 1, 0)):
        assert difference(at[shown], at[again]) * 3 < difference(at[shown], at[neighbour])
        if fmt == "gif":
            assert at[shown].tobytes() == at[again].tobytes()


def test_a_webp_without_libwebp_in_ffmpeg_is_made_by_pillow(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(loops, "_has_encoder", lambda name: False)
    result = make_loop(clip, tmp_path / "loop.webp", fmt="webp", width=160, fps=12, out_s=1.0, pingpong=True)
    assert read_back(result.path, "webp")[0] == result.frames == 2 * 12 - 2


def test_the_width_and_rate_never_exceed_the_clips(clip, tmp_path):
    result = make_loop(clip, tmp_path / "loop.gif", width=1000, fps=60, out_s=0.5)
    assert (result.width, result.height, result.fps, result.frames) == (320, 180, 24, 12)


def test_a_loop_over_the_limit_is_refused_with_a_width_that_fits(clip, tmp_path):
    dest = tmp_path / "loop.gif"
    with pytest.raises(LoopTooLargeError) as refused:
        make_loop(clip, dest, width=320, max_bytes=40_000)
    error = refused.value
    assert error.size_bytes > 40_000 and error.width == 320
    assert error.suggested_width is not None and loops.MIN_WIDTH <= error.suggested_width < 320
    assert f"try {error.suggested_width} px wide" in error.reason
    assert list(tmp_path.iterdir()) == []  # neither the loop nor its scratch file
    smaller = make_loop(clip, dest, width=error.suggested_width, max_bytes=40_000)
    assert smaller.size_bytes <= 40_000


def test_a_stretch_outside_the_clip_or_a_bad_file_is_refused(clip, tmp_path):
    with pytest.raises(LoopError, match="clip.mp4 lasts 2.00 s"):
        make_loop(clip, tmp_path / "loop.gif", out_s=3.0)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\0" * 4096)
    with pytest.raises(LoopError, match="junk.mp4 could not be read"):
        make_loop(junk, tmp_path / "loop.gif")
    with pytest.raises(ValueError, match="gif or webp"):
        make_loop(clip, tmp_path / "loop.png", fmt="png")  # type: ignore[arg-type]
