"""Frames picked from saved videos: exactly the frame asked for (as ffmpeg's own decode has it, pixel by pixel),
by index or by time, refused outside the clip or from a damaged file, and kept as an upload."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.clips import decode_all, decode_frame, decode_ppm, ffmpeg, make_clip
from videogen import frames, media
from videogen.catalog import Param
from videogen.frames import FrameError, frame_at, frame_range, index_at, keep_frame, probe
from videogen.simulator.render import render_clip

IMAGE_PARAM = Param("image_url", {"type": "string", "x-media": "image", "x-base64": True})


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frame-clips")
    gop = make_clip(folder / "gop.mp4", seconds=2, gop=12)  # B-frames, a keyframe every half second
    # Cut by stream copy off a keyframe: an edit list hides the frames before the cut, which the decoder still needs.
    edited = folder / "edited.mp4"
    ffmpeg("-ss", "0.6", "-i", str(gop), "-t", "1", "-c", "copy", str(edited))
    # MPEG-TS: a clock that starts late (1.4 s) and a demuxer that seeks loosely, to a later keyframe.
    stream = folder / "stream.ts"
    ffmpeg("-i", str(gop), "-c", "copy", "-f", "mpegts", str(stream))
    return {
        "gop": gop,
        "edited": edited,
        "stream": stream,
        "webm": make_clip(folder / "clip.webm", seconds=1.5, gop=10),  # millisecond timestamps
        "sound": make_clip(folder / "sound.mp4", seconds=1, gop=6, audio=True),
    }


@pytest.fixture(scope="module")
def rendered(rendered_videos):
    """A demo clip as the simulator renders it: 1280×720, 24 fps, one keyframe."""
    path = rendered_videos / "frames-16x9-2s.mp4"
    if not path.exists():
        render_clip(path, prompt="A lighthouse at dusk", aspect_ratio="16:9", duration=2, seed=3)
    return path


def png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG")
    return decode_ppm(data)


@pytest.mark.parametrize("kind", ["gop", "edited", "webm", "stream"])
def test_every_frame_is_the_one_ffmpeg_decodes_at_that_index(clips, kind):
    video = clips[kind]
    info = probe(video)
    reference = decode_all(video)
    assert info.frames == len(reference)
    for n, expected in enumerate(reference):
        assert png(frame_at(video, n, info=info)).tobytes() == expected.tobytes(), f"frame {n} of {kind}"


def test_a_rendered_clip_gives_its_frames_at_full_resolution(rendered):
    info = probe(rendered)
    assert (info.width, info.height, info.fps, info.frames) == (1280, 720, 24, 48)
    last = png(frame_at(rendered))  # the last frame by default
    assert last.size == (1280, 720)
    assert last.tobytes() == decode_frame(rendered, 47).tobytes()
    for n in (1, 24):
        assert png(frame_at(rendered, n, info=info)).tobytes() == decode_frame(rendered, n).tobytes()
    assert png(frame_at(rendered, -48, info=info)).tobytes() == decode_frame(rendered, 0).tobytes()


def test_a_time_names_the_frame_on_screen_then(clips):
    info = probe(clips["gop"])  # 24 fps, 2 s
    assert index_at(info, 0) == 0
    assert index_at(info, 1.0) == 24
    assert index_at(info, 0.99) == 23
    assert index_at(info, 1 / 24 * 5) == 5  # a frame's own start, whatever the rounding
    assert index_at(info, info.duration) == 47  # the very end shows the last frame
    assert png(frame_at(clips["gop"], seconds=1.0)).tobytes() == decode_frame(clips["gop"], 24).tobytes()


def test_a_trim_keeps_whole_frames_from_in_to_out(clips):
    info = probe(clips["gop"])
    assert frame_range(info) == (0, 48)
    assert frame_range(info, 0.5, 1.5) == (12, 36)
    assert frame_range(info, 0.51, 1.49) == (12, 36)  # the frame on screen at 0.51 s, up to the last one starting before 1.49 s
    with pytest.raises(FrameError, match="keeps no frame"):
        frame_range(info, 1.0, 1.0)


def test_what_a_probe_reads_without_decoding(clips):
    gop = probe(clips["gop"])
    assert (gop.width, gop.height, gop.fps, gop.frames, gop.has_audio) == (160, 90, 24, 48, False)
    assert gop.duration == pytest.approx(2.0)
    assert gop.keyframes == (0, 12, 24, 36)
    assert gop.reordered and gop.constant_rate
    sound = probe(clips["sound"])
    assert sound.has_audio and sound.audio.codec == "aac" and sound.audio.sample_rate == 48_000
    assert sound.frames == 24 and not probe(clips["webm"]).has_audio
    edited = probe(clips["edited"])
    assert 0 not in edited.keyframes  # its first shown frame decodes from a hidden keyframe


@pytest.mark.parametrize(
    ("index", "seconds"),
    [(48, None), (-49, None), (None, -0.1), (None, 2.5)],
)
def test_a_frame_outside_the_clip_is_refused_naming_it(clips, index, seconds):
    with pytest.raises(FrameError, match="gop.mp4"):
        frame_at(clips["gop"], index, seconds=seconds)


def test_a_damaged_or_missing_file_is_refused_with_a_reason(clips, tmp_path):
    data = clips["gop"].read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])  # the index is at the start (faststart): the frames are cut off
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all " * 200)
    with pytest.raises(FrameError, match="truncated.mp4 is damaged or incomplete"):
        frame_at(truncated)
    with pytest.raises(FrameError, match="junk.mp4 could not be read as a video"):
        frame_at(junk)
    with pytest.raises(FrameError, match="gone.mp4 is not there"):
        frame_at(tmp_path / "gone.mp4")
    voice = tmp_path / "voice.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac", str(voice))
    with pytest.raises(FrameError, match="voice.m4a holds no video stream"):
        frame_at(voice)


def test_anamorphic_pixels_come_out_square(tmp_path):
    wide = tmp_path / "wide.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=0.5,setsar=2", "-c:v", "libx264", "-preset", "ultrafast", str(wide))
    assert png(frame_at(wide)).size == (320, 90)


def test_the_frame_is_kept_as_an_upload_for_the_next_shot(clips, tmp_path):
    upload = keep_frame(clips["gop"], IMAGE_PARAM, tmp_path)
    assert upload.reference.startswith("upload:") and upload.reference.endswith(".png")
    assert media.reference_path(upload.reference, tmp_path) == upload.path
    assert png(upload.path.read_bytes()).tobytes() == decode_frame(clips["gop"], 47).tobytes()
    assert keep_frame(clips["gop"], IMAGE_PARAM, tmp_path).reference == upload.reference  # kept once, by content

    jpeg_only = Param("image_url", {"type": "string", "x-media": "image", "x-formats": ["jpeg", "jpg"]})
    first = keep_frame(clips["gop"], jpeg_only, tmp_path, 0)
    assert first.reference.endswith(".jpg") and first.mime == "image/jpeg"
    with Image.open(io.BytesIO(first.path.read_bytes())) as image:
        assert image.size == (160, 90)


def test_a_frame_the_model_refuses_says_why(clips, tmp_path):
    needs_big = Param("image_url", {"type": "string", "x-media": "image", "x-min-side": 300})
    with pytest.raises(media.MediaError, match="at least 300 pixels"):
        keep_frame(clips["gop"], needs_big, tmp_path)


def test_no_ffmpeg_is_a_readable_reason(clips, monkeypatch):
    def missing():
        raise RuntimeError("no ffmpeg")

    monkeypatch.setattr(frames.imageio_ffmpeg, "get_ffmpeg_exe", missing)
    with pytest.raises(FrameError, match="ffmpeg is not available"):
        probe(clips["gop"])
