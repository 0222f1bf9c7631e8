"""Posters and filmstrips: a representative frame, small files, one strip of evenly spaced frames, a reason for bad
input, and both made by the poller after a download and by its backfill for videos saved before.

Every clip is a real file rendered with the bundled ffmpeg (its test sources, or the simulator's renderer).
"""

from __future__ import annotations

import logging
import random
import shutil
import subprocess
import uuid
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image, ImageStat

from tests.helpers import wait_until
from tests.polling import make_poller, submit
from videogen import posters
from videogen.api import Status
from videogen.polling import video_filename
from videogen.posters import (
    POSTER_MAX_BYTES,
    POSTER_SIDE,
    STRIP_FRAMES,
    STRIP_HEIGHT,
    PosterError,
    backfill,
    ensure_posters,
    make_posters,
    missing_posters,
    placeholder_jpeg,
    poster_files,
)
from videogen.simulator import JobScript

# -- clips -------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-nostdin", "-loglevel", "error", *args], check=True, timeout=120)


def encode(dest: Path, *inputs: str, graph: str | None = None, frames: int | None = None) -> Path:
    """An H.264 MP4 from lavfi sources; with `graph`, a filter graph over them ending in [v]."""
    args = [arg for source in inputs for arg in ("-f", "lavfi", "-i", source)]
    if graph:
        args += ["-filter_complex", graph, "-map", "[v]"]
    if frames is not None:
        args += ["-frames:v", str(frames)]
    ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(dest))
    return dest


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {
        # One black second, then two of a busy test pattern.
        "black_start": encode(
            folder / "black-start.mp4",
            "color=c=black:s=640x360:r=24:d=1",
            "testsrc2=s=640x360:r=24:d=2",
            graph="[0:v][1:v]concat=n=2:v=1[v]",
        ),
        # Luminance that rises with time, so the order of the strip's frames can be read off their brightness.
        "ramp": encode(
            folder / "ramp.mp4", "color=c=black:s=320x180:r=10:d=10", graph="[0:v]format=yuv420p,geq=lum='16+T*21':cb=128:cr=128[v]"
        ),
        # Heavy grain at the poster's own size (no downscale to smooth it): over budget at the first qualities tried.
        "grain": encode(folder / "grain.mp4", "testsrc2=s=480x270:r=24:d=2", graph="[0:v]noise=alls=100:allf=t+u[v]"),
        # Every pixel random: over budget at every quality, so only a smaller frame fits.
        "static": encode(
            folder / "static.mp4",
            "nullsrc=s=480x270:r=24:d=2",
            graph="[0:v]format=gbrp,geq=r='random(1)*255':g='random(2)*255':b='random(3)*255',format=yuv420p[v]",
        ),
        "portrait": encode(folder / "portrait.mp4", "testsrc2=s=360x640:r=24:d=2"),
        "one_frame": encode(folder / "one-frame.mp4", "testsrc2=s=320x180:r=24", frames=1),
    }


def bad_files(folder: Path) -> dict[str, Path]:
    """Files that look like videos by their first bytes (so a download accepts them) and are not."""
    folder.mkdir(parents=True, exist_ok=True)
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypisom" + random.Random(1).randbytes(20_000))
    zero = encode(folder / "zero-frames.mp4", "testsrc2=s=320x180:r=24:d=1", frames=0)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    return {"corrupt": corrupt, "zero_frames": zero, "empty": empty}


def in_folder(clip: Path, folder: Path, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(clip, folder / (name or clip.name)))


def grey(path: Path) -> ImageStat.Stat:
    with Image.open(path) as image:
        return ImageStat.Stat(image.convert("L"))


# -- the poster ----------------------------------------------------------------


def test_a_clip_whose_first_second_is_black_gets_a_poster_that_is_not(clips, tmp_path):
    video = in_folder(clips["black_start"], tmp_path)
    first = tmp_path / "first.png"
    ffmpeg("-i", str(video), "-frames:v", "1", str(first))
    assert grey(first).mean[0] < 20 and grey(first).stddev[0] < 2  # the clip does start black

    files = make_posters(video)
    stat = grey(files.poster)
    assert stat.mean[0] > 60 and stat.stddev[0] > 30, (stat.mean, stat.stddev)


@pytest.mark.parametrize("clip", ["black_start", "grain", "static", "portrait", "one_frame"])
def test_the_poster_is_a_small_jpeg_at_most_poster_side_on_its_long_side(clips, tmp_path, clip):
    files = make_posters(in_folder(clips[clip], tmp_path))
    assert files.poster == tmp_path / f"{Path(clips[clip]).stem}.poster.jpg"
    assert 0 < files.poster.stat().st_size <= POSTER_MAX_BYTES
    with Image.open(files.poster) as image:
        assert image.format == "JPEG"
        image.verify()
    with Image.open(files.poster) as image:
        assert max(image.size) <= POSTER_SIDE


def test_the_budget_costs_quality_first_and_size_only_when_quality_is_not_enough(clips, tmp_path):
    with Image.open(make_posters(in_folder(clips["grain"], tmp_path)).poster) as image:
        assert image.size == (POSTER_SIDE, POSTER_SIDE * 9 // 16)
    with Image.open(make_posters(in_folder(clips["static"], tmp_path)).poster) as image:
        assert max(image.size) < POSTER_SIDE


# -- the filmstrip -------------------------------------------------------------


# A tile is STRIP_HEIGHT tall and as wide as the frame's shape makes it: 640x360 and 320x180 give 284, 360x640 gives 90.
@pytest.mark.parametrize("clip, width", [("black_start", 284), ("portrait", 90), ("one_frame", 284)])
def test_the_filmstrip_is_one_row_of_strip_frames_tiles(clips, tmp_path, clip, width):
    files = make_posters(in_folder(clips[clip], tmp_path))
    assert files.strip == tmp_path / f"{Path(clips[clip]).stem}.strip.jpg"
    with Image.open(files.strip) as strip:
        assert strip.format == "JPEG"
        assert strip.size == (STRIP_FRAMES * width, STRIP_HEIGHT)


def test_the_filmstrip_frames_are_evenly_spaced_in_time_order(clips, tmp_path):
    files = make_posters(in_folder(clips["ramp"], tmp_path))
    with Image.open(files.strip) as strip:
        width = strip.width // STRIP_FRAMES
        means = [
            ImageStat.Stat(strip.crop((k * width + 4, 4, (k + 1) * width - 4, strip.height - 4)).convert("L")).mean[0]
            for k in range(STRIP_FRAMES)
        ]
    steps = [b - a for a, b in zip(means, means[1:])]
    # The ramp gains the same brightness every second: tiles a second apart, each from the middle of its tenth.
    step = sum(steps) / len(steps)
    assert step > 15 and all(abs(s - step) < 0.2 * step for s in steps), means
    assert 0.3 * step < means[0] < 0.7 * step, means


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["corrupt", "zero_frames", "empty"])
def test_a_file_that_cannot_have_a_poster_gets_a_reason_and_no_poster(tmp_path, kind):
    video = bad_files(tmp_path / "videos")[kind]
    with pytest.raises(PosterError) as info:
        make_posters(video)
    assert info.value.permanent

    files = ensure_posters(video)  # the same, without raising
    assert not files.ready and not files.poster.exists() and not files.strip.exists()
    assert files.reason == info.value.reason
    assert files.reason.endswith(".") and "\n" not in files.reason and len(files.reason) < 200
    assert video not in missing_posters(video.parent)  # not tried again


def test_a_placeholder_is_a_plain_jpeg(tmp_path):
    (tmp_path / "p.jpg").write_bytes(placeholder_jpeg())
    with Image.open(tmp_path / "p.jpg") as image:
        assert image.format == "JPEG" and image.size == (POSTER_SIDE, POSTER_SIDE * 9 // 16)
    assert grey(tmp_path / "p.jpg").stddev[0] < 2


def test_ffmpeg_missing_or_too_slow_leaves_no_reason_so_it_is_tried_again(clips, tmp_path, monkeypatch):
    video = in_folder(clips["portrait"], tmp_path)
    with pytest.raises(PosterError) as info:
        make_posters(video, timeout=1e-6)
    assert not info.value.permanent and "did not finish" in info.value.reason

    def missing():
        raise RuntimeError("no ffmpeg")

    monkeypatch.setattr(posters.imageio_ffmpeg, "get_ffmpeg_exe", missing)
    files = ensure_posters(video)
    assert not files.ready and files.reason is None
    result = backfill(tmp_path)
    assert result.made == 0 and result.stalled and "ffmpeg is not available" in result.stalled
    assert missing_posters(tmp_path) == [video]


def test_a_remade_poster_replaces_the_old_one_and_leaves_no_temporary_file(clips, tmp_path):
    video = in_folder(clips["portrait"], tmp_path)
    files = poster_files(video)
    files.reason_file.write_text("An old reason.\n")
    make_posters(video)
    first = files.poster.read_bytes()
    (tmp_path / "scratch").mkdir()
    make_posters(video, scratch=tmp_path / "scratch")
    assert files.poster.read_bytes() == first and files.reason is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["portrait.mp4", "portrait.poster.jpg", "portrait.strip.jpg", "scratch"]
    assert list((tmp_path / "scratch").iterdir()) == []


# -- the backfill --------------------------------------------------------------


def test_the_backfill_works_in_bounded_batches_and_tries_a_bad_file_once(clips, tmp_path):
    folder = tmp_path / "videos"
    videos = [in_folder(clips["portrait"], folder, f"v{i}.mp4") for i in range(3)]
    corrupt = in_folder(bad_files(tmp_path / "bad")["corrupt"], folder)
    orphan = folder / "deleted.poster.jpg"
    orphan.write_bytes(placeholder_jpeg())

    first = backfill(folder, limit=2)
    assert (first.made + first.noted, first.left) == (2, 2) and not orphan.exists()
    rest = backfill(folder, limit=10)
    assert (first.made + rest.made, first.noted + rest.noted, rest.left) == (3, 1, 0)
    assert backfill(folder) == posters.BackfillResult()  # nothing is tried twice
    assert all(poster_files(v).ready for v in videos) and poster_files(corrupt).reason


def test_the_poller_backfills_videos_saved_before_it_started(clips, client, store):
    videos = [in_folder(clips["portrait"], store.videos_dir, video_filename(f"old-{i}:veo2")) for i in range(3)]
    poster_files(videos[0]).strip.write_bytes(b"")  # what a process stopped between the strip and the poster leaves
    poller = make_poller(store, client).start()
    try:
        assert wait_until(lambda: all(poster_files(v).ready for v in videos), timeout=60)
    finally:
        poller.stop()
    assert all(0 < poster_files(v).poster.stat().st_size <= POSTER_MAX_BYTES for v in videos)


# -- the poller ----------------------------------------------------------------


def all_done(store):
    return all(r.status.is_final and not r.needs_download for r in store.records())


def test_the_poller_makes_the_poster_after_a_finished_generation(sim, client, store):
    poller = make_poller(store, client).start()
    try:
        gen_id = submit(client, store)
        poller.wake()
        assert wait_until(lambda: all_done(store), timeout=30)
        video = Path(store.get(gen_id).video_path)
        files = poster_files(video)
        assert wait_until(lambda: files.ready, timeout=30)
    finally:
        poller.stop()
    assert files.poster.parent == store.videos_dir and files.reason is None
    assert 0 < files.poster.stat().st_size <= POSTER_MAX_BYTES and grey(files.poster).stddev[0] > 8
    with Image.open(files.strip) as strip:
        assert strip.size == (STRIP_FRAMES * 284, STRIP_HEIGHT)
    assert [p for p in store.partial_dir.iterdir()] == []


@pytest.mark.parametrize("kind", ["corrupt", "zero_frames"])
def test_a_video_with_no_poster_is_still_saved_and_the_poller_carries_on(sim, client, store, tmp_path, caplog, kind):
    key = uuid.uuid4().hex[:20]
    served = bad_files(tmp_path / "bad")[kind].read_bytes()
    (sim.videos_dir / f"{key}.mp4").write_bytes(served)
    sim.faults.script(JobScript(video_url=f"{sim.url}/videos/{key}.mp4"))
    poller = make_poller(store, client).start()
    try:
        with caplog.at_level(logging.INFO):
            bad = submit(client, store)
            good = submit(client, store)
            poller.wake()
            assert wait_until(lambda: all_done(store), timeout=30)
            files = poster_files(store.get(bad).video_path)
            assert wait_until(lambda: files.reason is not None)
            assert wait_until(lambda: poster_files(store.get(good).video_path).ready, timeout=30)
        assert poller.running
    finally:
        poller.stop()
        (sim.videos_dir / f"{key}.mp4").unlink()
    record = store.get(bad)
    assert record.status is Status.COMPLETED and record.video_error is None
    assert Path(record.video_path).read_bytes() == served
    assert not files.ready and files.reason.endswith(".")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
