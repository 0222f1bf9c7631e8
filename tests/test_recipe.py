"""Recipes inside saved MP4s: written by stream copy (the video's packets unchanged, the file a tag larger),
read back from a file or an upload's bytes, refused with a named reason when absent, damaged or not a video,
and restored into form values with one sentence for each thing the form can no longer take.

Every clip is a real MP4 from the simulator's renderer; every check of the result is ffmpeg's own reading.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

from videogen import catalog, media, recipe
from videogen.recipe import (
    APP_VERSION,
    MAX_VIDEO_BYTES,
    RECIPE_MARKER,
    DamagedRecipeError,
    NoRecipeError,
    Recipe,
    RecipeError,
    parse_recipe,
    read_recipe,
    restore,
    write_recipe,
)
from videogen.simulator.render import render_clip

I2V = "kling-video/v1.6/standard/image-to-video"
ROOT = Path(__file__).resolve().parent.parent


def ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *args], capture_output=True, text=True, timeout=120, check=False
    )


def packet_hash(video: Path) -> str:
    """A hash of the video stream's packets as stored: equal only when not one byte of the video changed."""
    done = ffmpeg("-loglevel", "error", "-i", str(video), "-map", "0:v", "-c", "copy", "-f", "streamhash", "-")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def decoded(video: Path) -> tuple[int, float]:
    """(frames decoded, duration in seconds) by a full decode; fails the test if ffmpeg cannot decode the file."""
    done = ffmpeg("-i", str(video), "-map", "0:v", "-f", "null", "-")
    assert done.returncode == 0, done.stderr
    frames = int(re.findall(r"frame=\s*(\d+)", done.stderr)[-1])
    h, m, s = re.search(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", done.stderr).groups()
    return frames, int(h) * 3600 + int(m) * 60 + float(s)


def tags(video: Path) -> str:
    done = ffmpeg("-loglevel", "error", "-i", str(video), "-f", "ffmetadata", "-")
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def rendered(rendered_videos):
    path = rendered_videos / "recipe-16x9-3s.mp4"
    if not path.exists():
        render_clip(path, prompt="A paper boat drifting down a rain-soaked street", aspect_ratio="16:9", duration=3, seed=5)
    return path


@pytest.fixture
def clip(rendered, tmp_path):
    """A fresh copy of the rendered clip, as the poller saves one: <videos>/<id>.mp4."""
    folder = tmp_path / "videos"
    folder.mkdir()
    return Path(shutil.copy(rendered, folder / "gen-1.mp4"))


def veo_recipe(**params) -> Recipe:
    body = catalog.validate("veo2", {"prompt": "A paper boat drifting down a rain-soaked street", **params}).body
    return Recipe(body=body, model="veo2", generation_id="gen-1:veo2", parent_id=None)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 360), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


# -- writing and reading back -------------------------------------------------


def test_round_trip_gives_back_the_exact_body_and_restores_it_unchanged(clip, tmp_path):
    # Text that ffmpeg's metadata format escapes, and text beyond ASCII.
    written = veo_recipe(prompt="Rain = ; # \\ on a boat,\nthen a café at dusk 夜", seed=42, duration=8)
    write_recipe(clip, written, timeout=30)

    back = read_recipe(clip)
    assert back == written
    assert back.body == written.body and back.model == "veo2" and back.generation_id == "gen-1:veo2"
    assert back.parent_id is None and back.app_version == APP_VERSION

    restored = restore(back, tmp_path / "data")
    assert restored.problems == []
    assert restored.model == "veo2"
    assert restored.request == written.body  # what the form's loader gets is the body that was sent
    assert catalog.validate("veo2", restored.values).body == written.body  # and Generate would send it again


def test_the_video_stream_is_copied_byte_for_byte_and_the_file_grows_by_the_tag_alone(clip, rendered):
    written = veo_recipe()
    write_recipe(clip, written, timeout=30)
    assert packet_hash(clip) == packet_hash(rendered)
    frames, duration = decoded(clip)
    assert (frames, duration) == decoded(rendered)
    assert frames == 3 * 24
    grown = clip.stat().st_size - rendered.stat().st_size
    assert clip.stat().st_size <= 1.05 * rendered.stat().st_size
    assert 0 < grown <= len(written.to_json()) + 1024  # the tag and its boxes, nothing else


def test_the_recipe_is_one_json_object_in_the_comment_tag_with_its_marker_first(clip):
    write_recipe(clip, Recipe(body={"model": "veo2", "prompt": "x"}, model="veo2", generation_id="g2", parent_id="g1"), timeout=30)
    line = next(line for line in tags(clip).splitlines() if line.startswith("comment="))
    assert line.startswith('comment={"videogen_recipe":1,')
    data = json.loads(line.removeprefix("comment="))
    assert data == {
        RECIPE_MARKER: 1,
        "app_version": APP_VERSION,
        "model": "veo2",
        "generation_id": "g2",
        "parent_id": "g1",
        "body": {"model": "veo2", "prompt": "x"},
    }


def test_a_plain_remux_elsewhere_keeps_the_recipe(clip, tmp_path):
    written = veo_recipe()
    write_recipe(clip, written, timeout=30)
    for name in ("copy.mp4", "copy.mov"):
        other = tmp_path / name
        done = ffmpeg("-loglevel", "error", "-i", str(clip), "-c", "copy", str(other))
        assert done.returncode == 0, done.stderr
        assert read_recipe(other) == written


def test_an_uploaded_videos_bytes_are_read_as_its_file_is(clip):
    written = veo_recipe(seed=7)
    write_recipe(clip, written, timeout=30)
    assert read_recipe(clip.read_bytes()) == written
    assert read_recipe(bytearray(clip.read_bytes())) == written


def test_writing_again_replaces_the_recipe_and_leaves_no_scratch_file(clip, tmp_path):
    write_recipe(clip, veo_recipe(seed=1), timeout=30)
    scratch = tmp_path / "partial"
    scratch.mkdir()
    write_recipe(clip, veo_recipe(seed=2), timeout=30, scratch=scratch)
    assert read_recipe(clip).body["seed"] == 2
    assert tags(clip).count("videogen_recipe") == 1
    assert sorted(p.name for p in clip.parent.iterdir()) == [clip.name] and not list(scratch.iterdir())


def test_the_app_version_is_the_projects(clip):
    import tomllib

    assert APP_VERSION == tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


# -- what is not a recipe -----------------------------------------------------


def test_a_video_made_elsewhere_has_no_recipe(clip):
    with pytest.raises(NoRecipeError, match="holds no recipe"):
        read_recipe(clip)


def test_a_video_with_someone_elses_comment_has_no_recipe(clip, tmp_path):
    other = tmp_path / "commented.mp4"
    assert ffmpeg("-i", str(clip), "-c", "copy", "-metadata", "comment=Shot on a phone", str(other)).returncode == 0
    with pytest.raises(NoRecipeError):
        read_recipe(other)


def with_comment(clip: Path, dest: Path, text: str) -> Path:
    done = ffmpeg("-loglevel", "error", "-i", str(clip), "-c", "copy", "-metadata", f"comment={text}", str(dest))
    assert done.returncode == 0, done.stderr
    return dest


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"videogen_recipe":1,"model":"veo2","body":{"prompt":"cut off', "JSON is damaged"),
        ('["videogen_recipe", 1]', "is a list, not a JSON object"),
        ('{"videogen_recipe":"1","model":"veo2","generation_id":"g","parent_id":null,"app_version":"0.1.0","body":{}}', "marker is '1'"),
        ('{"videogen_recipe":true,"model":"veo2","generation_id":"g","parent_id":null,"app_version":"0.1.0","body":{}}', "marker is True"),
        ('{"videogen_recipe":2,"model":"veo2","generation_id":"g","parent_id":null,"app_version":"9.0","body":{}}', "format 2, newer"),
        ('{"videogen_recipe":1,"model":"veo2","generation_id":"g","parent_id":null,"app_version":"0.1.0","body":"prompt"}', "body is text"),
        ('{"videogen_recipe":1,"model":"veo2","generation_id":"g","parent_id":null,"app_version":"0.1.0","body":[1]}', "body is a list"),
        ('{"videogen_recipe":1,"model":"veo2","generation_id":"g","parent_id":null,"app_version":"0.1.0"}', "body is missing"),
        ('{"videogen_recipe":1,"generation_id":"g","parent_id":null,"app_version":"0.1.0","body":{}}', "names no model"),
        ('{"videogen_recipe":1,"model":"veo2","generation_id":"g","app_version":"0.1.0","body":{"model":"sora-2"}}', "request body is for"),
        ('{"videogen_recipe":1,"model":"veo2","parent_id":null,"app_version":"0.1.0","body":{}}', "no generation id"),
        ('{"videogen_recipe":1,"model":"veo2","generation_id":"g","parent_id":5,"app_version":"0.1.0","body":{}}', "parent generation id"),
        ('{"videogen_recipe":1,"model":"veo2","generation_id":"g","body":{}}', "which version"),
    ],
)
def test_a_damaged_recipe_is_named_as_such(clip, tmp_path, text, reason):
    with pytest.raises(DamagedRecipeError, match=re.escape(reason)):
        parse_recipe(text)
    # The same text inside a video is refused the same way.
    with pytest.raises(DamagedRecipeError, match=re.escape(reason)):
        read_recipe(with_comment(clip, tmp_path / "damaged.mp4", text))


def test_hostile_json_is_damaged_not_a_crash():
    deep = '{"videogen_recipe":1,"body":' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(DamagedRecipeError):
        parse_recipe(deep)
    huge_number = '{"videogen_recipe":1,"body":{"seed":' + "9" * 10_000 + "}}"
    with pytest.raises(DamagedRecipeError):
        parse_recipe(huge_number)
    with pytest.raises(DamagedRecipeError, match="more than"):
        parse_recipe('{"videogen_recipe":1,"p":"' + "x" * recipe.MAX_RECIPE_BYTES + '"}')


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, not a video",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n",
        b"\x1a\x45\xdf\xa3" + b"\0" * 64,
    ],
    ids=["empty", "text", "png", "playlist", "webm-header"],
)
def test_what_is_not_an_mp4_gets_a_clear_error(tmp_path, data):
    with pytest.raises(RecipeError, match="not an MP4 video") as caught:
        read_recipe(data)
    assert not isinstance(caught.value, (NoRecipeError, DamagedRecipeError))
    path = tmp_path / "upload.mp4"
    path.write_bytes(data)
    with pytest.raises(RecipeError, match="not an MP4 video"):
        read_recipe(path)


def test_a_cut_off_mp4_gets_a_clear_error(clip):
    clip.write_bytes(clip.read_bytes()[:100])  # the ftyp box and the start of the index
    with pytest.raises(RecipeError, match="no video stream"):
        read_recipe(clip)


def test_a_huge_file_is_refused_before_ffmpeg_reads_it(tmp_path, monkeypatch):
    huge = tmp_path / "huge.mp4"
    with open(huge, "wb") as f:
        f.write(b"\0\0\0\x18ftypisom")
        f.truncate(MAX_VIDEO_BYTES + 1)  # sparse: nothing is written to disk
    with pytest.raises(RecipeError, match="at most 2.0 GB"):
        read_recipe(huge)
    monkeypatch.setattr(recipe, "MAX_VIDEO_BYTES", 1000)
    with pytest.raises(RecipeError, match="at most 1 KB"):
        read_recipe(b"\0\0\0\x18ftypisom" + b"\0" * 1000)


def test_a_flood_of_metadata_is_cut_off_not_read(clip, tmp_path):
    flooded = tmp_path / "flooded.mp4"
    tagged = [arg for name in ("title", "artist", "album") for arg in ("-metadata", f"{name}={'x' * 100_000}")]
    done = ffmpeg("-loglevel", "error", "-i", str(clip), "-c", "copy", *tagged, str(flooded))
    assert done.returncode == 0, done.stderr
    with pytest.raises(RecipeError, match="metadata is larger than"):
        read_recipe(flooded)


def test_a_read_that_takes_too_long_is_stopped(clip):
    with pytest.raises(RecipeError, match="did not finish within"):
        read_recipe(clip, timeout=0.0001)


# -- the original survives any failure ------------------------------------------


def fake_ffmpeg(tmp_path: Path, monkeypatch, script: str) -> None:
    exe = tmp_path / "fake-ffmpeg"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(exe))


@pytest.mark.parametrize(
    "script",
    [
        # Fails after writing half a file where it was told to.
        'for last; do :; done\nprintf "half a video" > "${last#file:}"\necho "Conversion failed!" >&2\nexit 1\n',
        # Claims success, but what it wrote does not read back with the recipe.
        'for last; do :; done\ncase "$last" in file:*) printf "not a video" > "${last#file:}";; esac\nexit 0\n',
        # Never finishes.
        "sleep 30\n",
    ],
    ids=["fails", "lies", "hangs"],
)
def test_when_ffmpeg_fails_the_original_is_untouched(clip, tmp_path, monkeypatch, script):
    write_recipe(clip, veo_recipe(seed=1), timeout=30)
    before, stat = clip.read_bytes(), clip.stat()
    fake_ffmpeg(tmp_path, monkeypatch, script)
    with pytest.raises(RecipeError) as caught:
        write_recipe(clip, veo_recipe(seed=2), timeout=2)
    assert caught.value.reason.endswith(".")
    assert clip.read_bytes() == before and clip.stat().st_ino == stat.st_ino
    assert sorted(p.name for p in clip.parent.iterdir()) == [clip.name]  # no scratch file left behind
    monkeypatch.undo()
    assert read_recipe(clip).body["seed"] == 1


@pytest.mark.parametrize(("keep", "reason"), [(100, "could not rewrite"), (4000, "changed its size")], ids=["no-index", "no-media"])
def test_a_cut_off_video_is_not_rewritten(clip, keep, reason):
    # Cut inside the index, ffmpeg cannot read it; cut after it, the index is whole but the packets are gone.
    clip.write_bytes(clip.read_bytes()[:keep])
    before = clip.read_bytes()
    with pytest.raises(RecipeError, match=reason):
        write_recipe(clip, veo_recipe(), timeout=30)
    assert clip.read_bytes() == before
    assert sorted(p.name for p in clip.parent.iterdir()) == [clip.name]


def test_a_body_holding_a_file_inline_is_refused(clip):
    body = {"model": I2V, "prompt": "Waves", "image_url": "data:image/png;base64,iVBORw0KGgo="}
    with pytest.raises(RecipeError, match="inline"):
        write_recipe(clip, Recipe(body=body, model=I2V, generation_id="g"), timeout=30)
    with pytest.raises(NoRecipeError):
        read_recipe(clip)


def test_only_mp4_and_mov_files_take_a_recipe(clip):
    webm = clip.with_suffix(".webm")
    clip.rename(webm)
    with pytest.raises(RecipeError, match="MP4 or MOV"):
        write_recipe(webm, veo_recipe(), timeout=30)


# -- restoring into the form ----------------------------------------------------


def test_an_upload_that_is_here_restores_and_one_that_is_not_is_named(tmp_path):
    data_dir = tmp_path / "data"
    upload = media.save_image(png_bytes(), catalog.get(I2V).param("image_url"), data_dir)
    body = catalog.validate(I2V, {"prompt": "Waves roll in", "image_url": upload.reference}).body
    kept = Recipe(body=body, model=I2V, generation_id="g:kling")
    assert restore(kept, data_dir) == recipe.Restored(I2V, {k: v for k, v in body.items() if k != "model"}, [])

    elsewhere = restore(kept, tmp_path / "another-deployment")
    assert elsewhere.model == I2V and "image_url" not in elsewhere.values
    assert elsewhere.values["prompt"] == "Waves roll in"
    assert len(elsewhere.problems) == 1  # named once, though the field is required as well
    assert "Image URL" in elsewhere.problems[0] and upload.reference[:20] in elsewhere.problems[0]
    assert "not in this app's data folder" in elsewhere.problems[0]


def test_a_field_the_model_no_longer_has_is_named_and_left_out(tmp_path):
    body = {**veo_recipe().body, "camera_motion": "dolly in"}
    restored = restore(Recipe(body=body, model="veo2", generation_id="g"), tmp_path)
    assert "camera_motion" not in restored.values and restored.values["prompt"]
    assert restored.problems == ["veo2 has no field 'camera_motion' any more; its value 'dolly in' was left out."]


def test_values_out_of_range_or_not_among_the_choices_are_named_and_reset(tmp_path):
    body = {**veo_recipe().body, "duration": 9, "seed": -1, "aspect_ratio": "4:3"}
    restored = restore(Recipe(body=body, model="veo2", generation_id="g"), tmp_path)
    assert restored.values["duration"] == 5 and restored.values["aspect_ratio"] == "16:9"  # the defaults
    assert "seed" not in restored.values
    text = " ".join(restored.problems)
    assert len(restored.problems) == 3
    assert "Duration must be one of 5, 6, 7, 8 (got 9)" in text
    assert "Seed must be between 0 and 4294967295 (got -1)" in text
    assert "Aspect ratio must be one of 16:9, 9:16 (got '4:3')" in text
    assert catalog.validate("veo2", restored.values).ok


def test_an_unknown_model_restores_nothing_and_says_so(tmp_path):
    restored = restore(Recipe(body={"model": "veo9", "prompt": "x"}, model="veo9", generation_id="g"), tmp_path)
    assert restored.model is None and restored.values == {} and restored.request is None
    assert restored.problems == ["The model 'veo9' is not one this app offers, so nothing could be loaded."]


def test_a_forged_upload_reference_is_named_and_never_followed(tmp_path):
    body = {"model": I2V, "prompt": "Waves", "image_url": "upload:../../../etc/passwd"}
    restored = restore(Recipe(body=body, model=I2V, generation_id="g"), tmp_path)
    assert "image_url" not in restored.values
    assert "upload:../../../etc/passwd" in restored.problems[0]
