"""The simulator's renderer writes real, browser-playable H.264 MP4s of the requested shape."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps

from videogen.simulator import render
from videogen.simulator.render import frame_size, probe, render_clip

PROMPT = "A golden retriever surfing a turquoise wave at sunset, cinematic drone shot"
SHAPES = [("16:9", 5), ("16:9", 8), ("9:16", 5), ("9:16", 8)]
EXPECTED_SIZE = {"16:9": (1280, 720), "9:16": (720, 1280)}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Path]:
    # Rendered once for the module: renders are the slow part of this suite.
    out = tmp_path_factory.mktemp("clips")
    return {
        (ratio, seconds): render_clip(
            out / f"{ratio.replace(':', 'x')}-{seconds}s.mp4", prompt=PROMPT, aspect_ratio=ratio, duration=seconds
        )
        for ratio, seconds in SHAPES
    }


def top_level_boxes(data: bytes) -> list[str]:
    kinds, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        kinds.append(kind.decode("latin-1"))
        if size == 1:  # 64-bit size follows the type
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        if size == 0:  # box runs to the end of the file
            break
        offset += size
    return kinds


@pytest.mark.parametrize(("ratio", "seconds"), SHAPES)
def test_clip_has_requested_shape(clips: dict[tuple[str, int], Path], ratio: str, seconds: int) -> None:
    info = probe(clips[(ratio, seconds)])

    width, height = EXPECTED_SIZE[ratio]
    assert (info.width, info.height, info.codec) == (width, height, "h264")
    assert info.duration == pytest.approx(seconds, abs=1 / 24)


@pytest.mark.parametrize(("ratio", "seconds"), SHAPES)
def test_clip_is_a_streamable_mp4(clips: dict[tuple[str, int], Path], ratio: str, seconds: int) -> None:
    boxes = top_level_boxes(clips[(ratio, seconds)].read_bytes())

    assert boxes[0] == "ftyp"
    # +faststart: the index comes before the media, so browsers can start playing at once.
    assert boxes.index("moov") < boxes.index("mdat")


def test_render_leaves_only_the_destination_behind(clips: dict[tuple[str, int], Path]) -> None:
    directory = next(iter(clips.values())).parent
    assert sorted(p.name for p in directory.iterdir()) == sorted(p.name for p in clips.values())


def test_different_prompts_give_different_videos(clips: dict[tuple[str, int], Path], tmp_path: Path) -> None:
    other = render_clip(tmp_path / "other.mp4", prompt="A paper boat in a rain puddle", aspect_ratio="16:9", duration=5)

    assert other.read_bytes() != clips[("16:9", 5)].read_bytes()


@pytest.mark.parametrize("ratio", ["16x9", "", "9:16 ", "0:1", "auto"])
def test_unknown_aspect_ratio_is_rejected(tmp_path: Path, ratio: str) -> None:
    with pytest.raises(ValueError, match="aspect_ratio"):
        render_clip(tmp_path / "x.mp4", prompt=PROMPT, aspect_ratio=ratio, duration=5)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seconds", [0, -1, 61, 5.5, True, "5"])
def test_bad_duration_is_rejected(tmp_path: Path, seconds: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        render_clip(tmp_path / "x.mp4", prompt=PROMPT, aspect_ratio="16:9", duration=seconds)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_ffmpeg_failure_raises_with_its_message_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_PRESET", "no-such-preset")

    with pytest.raises(RuntimeError, match="ffmpeg failed") as failure:
        render_clip(tmp_path / "x.mp4", prompt=PROMPT, aspect_ratio="16:9", duration=1)

    assert "preset" in str(failure.value).lower()  # the stderr tail names the cause
    assert list(tmp_path.iterdir()) == []


def test_probe_rejects_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mp4"
    bogus.write_text("not a video")

    with pytest.raises(RuntimeError):
        probe(bogus)


def test_long_prompt_is_wrapped_and_ends_in_an_ellipsis() -> None:
    font = render._font(48)

    lines = render._wrap("lorem ipsum dolor " * 200 + "x" * 5000, font, max_width=1000, max_lines=4)

    assert len(lines) == 4
    assert lines[-1].endswith("…")
    assert all(font.getlength(line) <= 1000 for line in lines)


@pytest.mark.parametrize(
    ("ratio", "resolution", "size"),
    [
        ("16:9", None, (1280, 720)),
        ("9:16", None, (720, 1280)),
        ("1:1", None, (720, 720)),
        ("4:3", "1080p", (1440, 1080)),
        ("21:9", "480p", (1120, 480)),
        ("9:16", "4320p", (1080, 1920)),
        ("16:9", "hd", (1280, 720)),
    ],
)
def test_any_ratio_and_resolution_has_a_size(ratio: str, resolution: str | None, size: tuple[int, int]) -> None:
    assert frame_size(ratio, resolution) == size


def _test_image(path: Path) -> Image.Image:
    image = Image.new("RGB", (800, 600), (250, 240, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 400, 300), fill=(220, 30, 30))
    draw.rectangle((400, 300, 800, 600), fill=(30, 30, 220))
    draw.ellipse((300, 200, 500, 400), fill=(20, 180, 60))
    image.save(path)
    return image


def _first_frame(video: Path, tmp_path: Path) -> Image.Image:
    frame = tmp_path / "first.png"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(video), "-frames:v", "1", str(frame)], check=True
    )
    return Image.open(frame).convert("RGB")


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0 to 255."""
    histogram = ImageChops.difference(a, b).histogram()  # 256 counts per channel, R then G then B
    return sum((i % 256) * n for i, n in enumerate(histogram)) / (3 * a.width * a.height)


def test_an_image_to_video_clip_starts_on_its_image_scaled_to_cover(tmp_path: Path) -> None:
    image = _test_image(tmp_path / "source.png")
    clip = render_clip(tmp_path / "i2v.mp4", prompt=PROMPT, aspect_ratio="16:9", duration=2, source=tmp_path / "source.png")
    first = _first_frame(clip, tmp_path)
    assert first.size == (1280, 720)
    assert _difference(first, ImageOps.fit(image, first.size)) < 4  # only the codec's loss
    # Not a coincidence of flat colour: the plain clip of the same prompt looks nothing like it.
    plain = _first_frame(render_clip(tmp_path / "plain.mp4", prompt=PROMPT, aspect_ratio="16:9", duration=2), tmp_path)
    assert _difference(plain, ImageOps.fit(image, plain.size)) > 30


def test_a_video_to_video_clip_is_made_from_its_source(tmp_path: Path) -> None:
    image = _test_image(tmp_path / "source.png")
    source = render_clip(tmp_path / "src.mp4", prompt=PROMPT, aspect_ratio="16:9", duration=2, source=tmp_path / "source.png")
    clip = render_clip(tmp_path / "v2v.mp4", prompt="", aspect_ratio="1:1", duration=3, source=source, source_kind="video")
    info = probe(clip)
    assert (info.width, info.height, round(info.duration)) == (720, 720, 3)
    first = _first_frame(clip, tmp_path)
    # The source's first frame (the image at 16:9), centre-cropped to a square; the label and bar left out.
    expected = ImageOps.fit(ImageOps.fit(image, (1280, 720)), (720, 720))
    assert _difference(first.crop((0, 200, 720, 600)), expected.crop((0, 200, 720, 600))) < 12


def test_an_unreadable_source_gives_the_plain_clip(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"not an image")
    clip = render_clip(tmp_path / "x.mp4", prompt=PROMPT, aspect_ratio="16:9", duration=1, source=tmp_path / "broken.png")
    assert probe(clip).duration == 1
