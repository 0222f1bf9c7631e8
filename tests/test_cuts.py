"""Cuts: shots joined by stream copy when they match and encoded again when not, trimmed to the frame either way,
sound kept (silence for shots without), the recipe inside the file, and a readable refusal naming the shot."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.clips import AUDIO_RATE, decode_audio, decode_ppm, difference, ffmpeg, loudness, make_clip
from videogen.cuts import CUT_TAG, CutError, Shot, plan, read_cut, stitch
from videogen.frames import frame_at, probe
from videogen.simulator.render import render_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory, rendered_videos):
    folder = tmp_path_factory.mktemp("cut-clips")
    rendered = []
    for seed in (1, 2):
        path = rendered_videos / f"cuts-240p-1s-{seed}.mp4"
        if not path.exists():
            render_clip(path, prompt=f"Shot {seed} of a short story", aspect_ratio="16:9", duration=1, seed=seed, resolution="240p")
        rendered.append(path)
    # Without B-frames and with a keyframe every half second: trims on those keyframes can be copied.
    plain = {"bframes": False, "gop": 12}
    return {
        "rendered_a": rendered[0],
        "rendered_b": rendered[1],
        "a": make_clip(folder / "a.mp4", **plain),
        "b": make_clip(folder / "b.mp4", pattern="testsrc", **plain),
        "sound": make_clip(folder / "sound.mp4", seconds=1, audio=True, **plain),
        "bframes": make_clip(folder / "bframes.mp4", seconds=1),
        "big": make_clip(folder / "big.mp4", size="320x180", seconds=1, **plain),
        "fast": make_clip(folder / "fast.mp4", rate=30, seconds=1, **plain),
    }


def frame(video, n):
    return decode_ppm(frame_at(video, n))


def assert_nearest(cut, k, source, n):
    """Frame k of an encoded cut is source frame n: closer to it than to its neighbours, and close."""
    got = frame(cut, k)
    own = difference(got, frame(source, n))
    assert own < 4, f"cut frame {k} differs from frame {n} by {own:.1f}"
    info = probe(source)
    for other in (n - 1, n + 1):
        if 0 <= other < info.frames:
            assert own < difference(got, frame(source, other)), f"cut frame {k} looks more like frame {other} than {n}"


def test_matching_rendered_clips_are_copied_frame_for_frame(clips, tmp_path):
    a, b = clips["rendered_a"], clips["rendered_b"]
    result = stitch([Shot(a, generation_id="g-1"), Shot(b, generation_id="g-2")], tmp_path / "cut.mp4")
    assert result.method == "copy" and result.reason is None and result.sound == "none"
    assert result.frames == 48 and result.duration == pytest.approx(2.0, abs=1e-6)
    assert result.path.is_file() and result.size_bytes == result.path.stat().st_size
    for k, (source, n) in {0: (a, 0), 23: (a, 23), 24: (b, 0), 47: (b, 23)}.items():
        assert frame(result.path, k).tobytes() == frame(source, n).tobytes(), f"cut frame {k}"


def test_trims_on_keyframes_are_copied_and_exact(clips, tmp_path):
    a, b = clips["a"], clips["b"]
    shots = [Shot(a, in_s=0.5, out_s=1.3), Shot(b, in_s=1.0)]  # frames 12-31 of a, then 24-47 of b
    result = stitch(shots, tmp_path / "cut.mp4")
    assert result.method == "copy"
    assert result.frames == 20 + 24
    assert result.duration == pytest.approx(44 / 24, abs=1e-6)
    for k, (source, n) in {0: (a, 12), 19: (a, 31), 20: (b, 24), 43: (b, 47)}.items():
        assert frame(result.path, k).tobytes() == frame(source, n).tobytes(), f"cut frame {k}"


def test_a_trim_between_keyframes_is_encoded_again_exact_to_the_frame(clips, tmp_path):
    a, b = clips["a"], clips["b"]
    shots = [Shot(a, in_s=0.3, out_s=1.1), Shot(b, in_s=0.7, out_s=1.45)]
    cut_plan = plan(shots)
    assert cut_plan.method == "reencode"
    assert "Shot 1 (a.mp4) starts at 0.29 s" in cut_plan.reason and "keyframe" in cut_plan.reason
    # Frame 7 is on screen at 0.3 s; the last frame starting before 1.1 s is 26; for b, 16 to 34.
    assert [(s.first, s.end) for s in cut_plan.segments] == [(7, 27), (16, 35)]
    result = stitch(shots, tmp_path / "cut.mp4")
    assert result.frames == 20 + 19
    # The sum of the trimmed parts, within a frame; each part within a frame of what was asked.
    assert result.duration == pytest.approx(cut_plan.duration, abs=1 / 24)
    assert result.duration == pytest.approx((1.1 - 0.3) + (1.45 - 0.7), abs=2 / 24)
    for k, (source, n) in {0: (a, 7), 19: (a, 26), 20: (b, 16), 38: (b, 34)}.items():
        assert_nearest(result.path, k, source, n)


def test_an_end_trim_where_frames_are_stored_out_of_order_is_encoded_again(clips):
    cut_plan = plan([Shot(clips["bframes"], out_s=0.5), Shot(clips["bframes"])])
    assert cut_plan.method == "reencode" and "stored out of order" in cut_plan.reason
    assert plan([Shot(clips["bframes"], in_s=0.5), Shot(clips["bframes"])]).method == "copy"


def test_a_different_size_is_encoded_again_to_the_first_shots(clips, tmp_path):
    a, big = clips["a"], clips["big"]
    result = stitch([Shot(a, out_s=1.0), Shot(big)], tmp_path / "cut.mp4")
    assert result.method == "reencode" and "Shot 2 (big.mp4) is 320×180" in result.reason
    assert (result.width, result.height) == (160, 90)
    assert result.frames == 48 and result.duration == pytest.approx(2.0, abs=1 / 24)
    assert_nearest(result.path, 24, _scaled(big), 0)


def test_a_different_frame_rate_is_encoded_again_at_the_first_shots(clips, tmp_path):
    a, fast = clips["a"], clips["fast"]
    result = stitch([Shot(a, out_s=1.0), Shot(fast)], tmp_path / "cut.mp4")
    assert result.method == "reencode" and "runs at 30 fps" in result.reason
    assert result.fps == 24
    assert result.duration == pytest.approx(2.0, abs=1 / 24)
    assert abs(result.frames - 48) <= 1


def test_sound_and_silence_mix_in_step_with_the_pictures(clips, tmp_path):
    sound, silent = clips["sound"], clips["a"]
    for shots, loud_first in (([Shot(sound), Shot(silent, out_s=1.0)], True), ([Shot(silent, out_s=1.0), Shot(sound)], False)):
        result = stitch(shots, tmp_path / "cut.mp4")
        assert result.method == "copy" and result.sound == "encode" and result.has_audio  # the pictures still copied
        samples = decode_audio(result.path)
        assert len(samples) / AUDIO_RATE == pytest.approx(result.duration, abs=0.03)
        half = len(samples) // 2
        tone, quiet = (samples[: half - 1200], samples[half + 1200 :]) if loud_first else (samples[half + 1200 :], samples[: half - 1200])
        assert loudness(tone) > 1000 and loudness(quiet) < 10


def test_sound_is_copied_when_every_shot_has_the_same(clips, tmp_path):
    result = stitch([Shot(clips["sound"]), Shot(clips["sound"])], tmp_path / "cut.mp4")
    assert (result.method, result.sound) == ("copy", "copy")
    assert len(decode_audio(result.path)) / AUDIO_RATE == pytest.approx(2.0, abs=0.05)


def test_sound_survives_encoding_again_too(clips, tmp_path):
    result = stitch([Shot(clips["big"]), Shot(clips["sound"], in_s=0.3)], tmp_path / "cut.mp4")
    assert (result.method, result.sound) == ("reencode", "encode")
    samples = decode_audio(result.path)
    assert len(samples) / AUDIO_RATE == pytest.approx(result.duration, abs=0.03)
    assert loudness(samples[: AUDIO_RATE // 2]) < 10 and loudness(samples[-AUDIO_RATE // 4 :]) > 1000


def test_the_cut_carries_its_recipe(clips, tmp_path):
    shots = [Shot(clips["a"], in_s=0.5, out_s=1.0, generation_id="gen-1:veo2"), Shot(clips["b"], generation_id="gen-2:veo2")]
    result = stitch(shots, tmp_path / "cut.mp4")
    recipe = read_cut(result.path)
    assert recipe is not None and recipe.method == "copy"
    assert [(s.generation_id, s.in_s, s.out_s, s.path) for s in recipe.shots] == [
        ("gen-1:veo2", 0.5, 1.0, None),
        ("gen-2:veo2", 0.0, 2.0, None),
    ]
    assert CUT_TAG == "videogen_cut"
    assert read_cut(clips["a"]) is None and read_cut(tmp_path / "absent.mp4") is None


def test_a_shot_that_cannot_be_used_is_named(clips, tmp_path):
    bad = tmp_path / "bad.mp4"
    data = clips["b"].read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    dest = tmp_path / "out" / "cut.mp4"
    dest.parent.mkdir()
    with pytest.raises(CutError, match=r"Shot 2 \(generation g-2\) has no saved video"):
        stitch([Shot(clips["a"]), Shot(None, generation_id="g-2")], dest)
    with pytest.raises(CutError, match=r"Shot 2 \(bad.mp4\): bad.mp4 is damaged"):
        stitch([Shot(clips["a"]), Shot(bad)], dest)
    with pytest.raises(CutError, match=r"Shot 1 \(a.mp4\): a.mp4 lasts 2.00 s"):
        stitch([Shot(clips["a"], out_s=3.0)], dest)
    with pytest.raises(CutError, match="at least one shot"):
        stitch([], dest)
    with pytest.raises(CutError, match="without encoding them again: Shot 2 \\(big.mp4\\)"):
        stitch([Shot(clips["a"]), Shot(clips["big"])], dest, method="copy")
    assert list(dest.parent.iterdir()) == []  # nothing half-made is left


def test_a_size_or_rate_can_be_chosen(clips, tmp_path):
    result = stitch([Shot(clips["a"], out_s=0.5), Shot(clips["big"], out_s=0.5)], tmp_path / "cut.mp4", size=(320, 180), fps=12)
    assert (result.method, result.width, result.height, result.fps) == ("reencode", 320, 180, Fraction(12))
    assert result.frames == 12


def _scaled(video):
    """`video` scaled to the cut's 160×90 (losslessly), for comparing its frames with the cut's."""
    small = video.with_name(video.stem + "-160x90.mp4")
    if not small.exists():
        ffmpeg("-i", str(video), "-vf", "scale=160:90", "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", str(small))
    return small


def test_each_shots_recipe_goes_into_the_cuts_and_the_cut_is_named_when_dropped(clips, tmp_path):
    from videogen.recipe import NoRecipeError, Recipe, read_recipe

    shot_recipe = Recipe(body={"model": "veo2", "prompt": "A red kite"}, model="veo2", generation_id="gen-1:veo2")
    shots = [Shot(clips["a"], generation_id="gen-1:veo2", recipe=shot_recipe.fields()), Shot(clips["b"], generation_id="gen-2:veo2")]
    result = stitch(shots, tmp_path / "cut.mp4")
    kept = read_cut(result.path).shots
    assert kept[0].recipe == shot_recipe.fields() and kept[1].recipe is None
    with pytest.raises(NoRecipeError, match="cut stitched from 2 shots"):
        read_recipe(result.path)
