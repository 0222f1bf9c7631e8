"""A saved video's poster and filmstrip, made once and kept beside it.

    files = ensure_posters(video)   # never raises for a video that cannot have one
    files.poster, files.strip       # <stem>.poster.jpg, <stem>.strip.jpg
    files.reason                    # why there is none, when it cannot be made

A page shows many cards, and decoding each video to show it would cost far more
than showing one small JPEG, so both images are made when the video is saved and
read from the data dir afterwards. One ffmpeg run decodes the clip once and hands
over STRIP_FRAMES frames, evenly spaced and taken at the middle of each tenth
(the first frame is often black, or a fade from it); Pillow picks the poster among
them and tiles the strip. The poster is the frame whose colours are closest to the
clip's average, as ffmpeg's `thumbnail` filter judges, among those that are not
near-uniform: a black or single-colour frame represents nothing.

A video that cannot have a poster (not a video, damaged, no frames) gets
`<stem>.poster-error.txt` holding the reason in one sentence, so it is not tried
again and the page can say why it shows a plain placeholder. A failure that may
pass (ffmpeg missing or too slow, a full disk) leaves no reason: the backfill
tries again later. Every file is written under a temporary name and renamed
into place, so a half-written image is never served.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageStat

log = logging.getLogger(__name__)

STRIP_FRAMES = 10
#: The poster's long side, in pixels: a card's width on a wide screen, at most.
POSTER_SIDE = 480
POSTER_MAX_BYTES = 30 * 1024
#: Each filmstrip frame's height: enough to recognise a scene while scrubbing a card.
STRIP_HEIGHT = 160
#: How many saved videos one backfill pass handles: each costs an ffmpeg run, and a pass must end soon.
BACKFILL_BATCH = 8
#: How long a page waits for a just-saved video's poster before it stops looking (the poller makes it within seconds).
POSTER_WAIT_S = 30.0
#: How much less CPU priority ffmpeg gets than the app (POSIX nice steps).
POSTER_NICENESS = 10
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v")
POSTER_SUFFIX, STRIP_SUFFIX, REASON_SUFFIX = ".poster.jpg", ".strip.jpg", ".poster-error.txt"

# Luminance spread (standard deviation, 0-255) below which a frame reads as one flat colour: black frames
# (compression noise included), fades and plain title backgrounds fall below it, a scene with any detail,
# however dark, above.
_MIN_SPREAD = 8.0
# Tried in turn until the poster fits its byte budget; then the frame shrinks and the ladder starts again.
_POSTER_QUALITIES = (85, 78, 70, 62, 54, 46, 38)
_STRIP_QUALITY = 72
# Without a known duration (some WebM files), frames are sampled once a second, up to this many.
_UNTIMED_FRAMES = 60
_PROBE_TIMEOUT = 15.0
# A decode's default time limit grows with the clip, up to this: past it, ffmpeg is stuck rather than busy.
_MAX_DECODE_TIMEOUT = 120.0
_DURATION = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO_STREAM = re.compile(r"Stream #\d+:\d+.*?: Video: ")
_PPM_HEADER = re.compile(rb"P6\s+(\d+)\s+(\d+)\s+255\s")


class PosterError(Exception):
    """No poster could be made; `reason` says why in one sentence.

    `permanent` means this file will never give one (not a video, damaged, no frames); otherwise
    the cause lies outside the file (ffmpeg missing or too slow, the disk) and a later try may work.
    """

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class PosterFiles:
    """Where a video's poster, filmstrip and reason live: beside the video, named after it."""

    video: Path
    poster: Path
    strip: Path
    reason_file: Path

    @property
    def ready(self) -> bool:
        # The poster is written last, so with it the strip is there too.
        return self.poster.is_file() and self.strip.is_file()

    def settled(self, *, now: float | None = None) -> bool:
        """Nothing more is coming soon: the poster is made, or cannot be, or the poller's first try
        (POSTER_WAIT_S after the video was saved) is over and the rest is left to the backfill."""
        if self.ready or self.reason_file.is_file():
            return True
        try:
            saved = self.video.stat().st_mtime
        except OSError:
            return True
        return (time.time() if now is None else now) - saved >= POSTER_WAIT_S

    @property
    def reason(self) -> str | None:
        """Why this video has no poster, or None: it has one, or it may still get one."""
        try:
            return self.reason_file.read_text(encoding="utf-8", errors="replace").strip()[:500] or None
        except OSError:
            return None


@dataclass(frozen=True)
class BackfillResult:
    """What one backfill pass did: posters made, reasons noted, videos left for later passes."""

    made: int = 0
    noted: int = 0
    left: int = 0
    #: The reason that ended the pass early, one a later try may not hit (ffmpeg missing, a timeout).
    stalled: str | None = None


def poster_files(video: Path | str) -> PosterFiles:
    """The paths for `video`'s poster, strip and reason; nothing is read or made."""
    video = Path(video)
    stem = video.with_suffix("").name
    return PosterFiles(
        video, video.with_name(stem + POSTER_SUFFIX), video.with_name(stem + STRIP_SUFFIX), video.with_name(stem + REASON_SUFFIX)
    )


def make_posters(video: Path | str, *, scratch: Path | None = None, timeout: float | None = None) -> PosterFiles:
    """Make `video`'s poster and filmstrip, replacing any there are; raise PosterError when they cannot be made.

    Files are written in `scratch` first (on the same file system as the video; by default its folder) and
    renamed into place. `timeout` bounds each ffmpeg run; by default it grows with the clip's length.
    """
    files = poster_files(video)
    if not files.video.is_file():
        raise PosterError("The video file is not there.", permanent=True)
    frames = _frames(files.video.absolute(), timeout)
    poster = _jpeg_within(_representative(frames), POSTER_MAX_BYTES)
    strip = _jpeg(_strip(frames), _STRIP_QUALITY)
    scratch = Path(scratch) if scratch is not None else files.video.parent
    _publish(strip, files.strip, scratch)
    _publish(poster, files.poster, scratch)
    files.reason_file.unlink(missing_ok=True)  # a reason from an earlier file of the same name no longer holds
    return files


def ensure_posters(video: Path | str, *, scratch: Path | None = None, timeout: float | None = None) -> PosterFiles:
    """Make `video`'s poster and filmstrip unless they exist; when they cannot be made, write down why.

    Never raises PosterError: a permanent one leaves its reason beside the video, any other is logged
    and leaves the video for a later backfill.
    """
    files = poster_files(video)
    if not files.ready:
        _attempt(files, scratch, timeout)
    return files


def missing_posters(videos_dir: Path) -> list[Path]:
    """Saved videos in `videos_dir` with neither a poster nor a reason why not, newest first."""
    return _scan(Path(videos_dir))[0]


def backfill(
    videos_dir: Path,
    *,
    limit: int = BACKFILL_BATCH,
    scratch: Path | None = None,
    timeout: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> BackfillResult:
    """Make posters for up to `limit` videos in `videos_dir` that have none, newest first.

    Only the folder is read, not the history: every video the app serves is a file in it, and so
    are the ones saved before posters existed or by a process stopped between saving and posting.
    Posters whose video is gone (a deleted generation) are removed. A failure that is not the file's
    own ends the pass, as it would fail every other video the same way.
    """
    missing, orphans = _scan(Path(videos_dir))
    for stem, orphan in orphans:
        # The folder is not read in one instant: a video saved during the scan may have been missed.
        if not any(orphan.with_name(stem + suffix).exists() for suffix in VIDEO_SUFFIXES):
            orphan.unlink(missing_ok=True)
    made = noted = 0
    for done, video in enumerate(missing[:limit]):
        if should_stop():
            return BackfillResult(made, noted, len(missing) - done)
        error = _attempt(poster_files(video), scratch, timeout)
        if error is None:
            made += 1
        elif error.permanent:
            noted += 1
        else:
            return BackfillResult(made, noted, len(missing) - done, stalled=error.reason)
    return BackfillResult(made, noted, max(0, len(missing) - limit))


@functools.cache
def placeholder_jpeg(width: int = POSTER_SIDE, height: int = POSTER_SIDE * 9 // 16) -> bytes:
    """A plain grey frame, for a video whose poster cannot be made or is not made yet."""
    return _jpeg(Image.new("RGB", (width, height), (58, 60, 66)), 80)


# -- making them ------------------------------------------------------------


def _attempt(files: PosterFiles, scratch: Path | None, timeout: float | None) -> PosterError | None:
    try:
        make_posters(files.video, scratch=scratch, timeout=timeout)
    except PosterError as exc:
        if exc.permanent and files.video.is_file():  # a video deleted meanwhile needs no reason
            log.info("no poster for %s: %s", files.video.name, exc.reason)
            try:
                _publish((exc.reason + "\n").encode(), files.reason_file, scratch or files.video.parent)
            except PosterError:
                log.warning("could not note why %s has no poster", files.video.name)
        else:
            log.warning("poster for %s not made, to be tried again: %s", files.video.name, exc.reason)
        return exc
    return None


def _frames(video: Path, timeout: float | None) -> list[Image.Image]:
    """STRIP_FRAMES frames at the middle of each equal part of the clip, in order, at most POSTER_SIDE on the long side."""
    duration = _duration(video, timeout)
    # One frame per part, taken where a frame first reaches the part's middle. Frames are selected before
    # they are scaled, so only the chosen ones cost more than their decode.
    rate, most = (STRIP_FRAMES / duration, STRIP_FRAMES) if duration else (1.0, _UNTIMED_FRAMES)

    def part(t: str) -> str:
        return f"floor(({t}-start_t)*{rate:.9f}-0.5)"

    limit = timeout or min(_MAX_DECODE_TIMEOUT, 20.0 + 2.0 * (duration or 60.0))
    frames = _decode(video, f"select='gt({part('t')},{part('prev_t')})'", most, limit)
    if not frames:
        # A clip of a frame or two ends before the first middle: its first frame is all there is.
        frames = _decode(video, "null", 1, limit)
    if not frames:
        raise PosterError("The video has no frames to show.", permanent=True)
    if len(frames) > STRIP_FRAMES:
        frames = [frames[(2 * k + 1) * len(frames) // (2 * STRIP_FRAMES)] for k in range(STRIP_FRAMES)]
    return frames


def _duration(video: Path, timeout: float | None) -> float | None:
    """The container's duration in seconds (None if it states none); PosterError if it holds no readable video."""
    # With no output file ffmpeg prints the input's header and exits non-zero: the header is what counts.
    header = _ffmpeg(["-hide_banner", "-nostdin", "-i", str(video)], timeout or _PROBE_TIMEOUT).stderr.decode(errors="replace")
    if not re.search(r"^Input #0", header, re.M):
        raise PosterError("The file could not be read as a video: it is damaged, incomplete or of another kind.", permanent=True)
    if not _VIDEO_STREAM.search(header):
        raise PosterError("The file holds no video stream.", permanent=True)
    found = _DURATION.search(header)
    if not found:
        return None
    hours, minutes, seconds = found.groups()
    return (int(hours) * 3600 + int(minutes) * 60 + float(seconds)) or None


def _decode(video: Path, select: str, most: int, timeout: float) -> list[Image.Image]:
    fit = f"scale='if(gte(iw,ih),min({POSTER_SIDE},iw),-2)':'if(gte(iw,ih),-2,min({POSTER_SIDE},ih))'"
    args = [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(video),
        "-map", "0:v:0",
        "-vf", f"{select},{fit},format=rgb24",
        # Every selected frame goes out as it is, none duplicated to fill a frame rate.
        "-fps_mode", "passthrough",
        "-frames:v", str(most),
        "-c:v", "ppm", "-f", "image2pipe", "-",
    ]  # fmt: skip
    result = _ffmpeg(args, timeout)
    frames = _split_ppm(result.stdout)
    if not frames and result.returncode != 0:
        raise PosterError("The video could not be decoded: it is damaged or in a format this ffmpeg cannot read.", permanent=True)
    return frames


def _split_ppm(data: bytes) -> list[Image.Image]:
    """The frames of a stream of binary PPM images, as ffmpeg's image2pipe writes them; a cut-off last one is dropped."""
    frames, at = [], 0
    while (header := _PPM_HEADER.match(data, at)) is not None:
        width, height = int(header[1]), int(header[2])
        end = header.end() + width * height * 3
        if end > len(data):
            break
        frames.append(Image.frombytes("RGB", (width, height), data[header.end() : end]))
        at = end
    return frames


def _ffmpeg(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        raise PosterError("ffmpeg is not available, so no poster could be made.", permanent=False) from None
    try:
        with subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL) as proc:
            _lower_priority(proc.pid)
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        raise PosterError(f"ffmpeg did not finish within {timeout:g} s, so no poster was made.", permanent=False) from None
    except OSError as exc:
        raise PosterError(f"ffmpeg could not be started ({exc.strerror or type(exc).__name__}).", permanent=False) from None


def _lower_priority(pid: int) -> None:
    # Posters are never urgent: the page run, polls and downloads share the same cores and come first.
    try:
        os.setpriority(os.PRIO_PROCESS, pid, POSTER_NICENESS)
    except (AttributeError, OSError):  # not on POSIX, or the process has already ended
        pass


# -- choosing and encoding --------------------------------------------------


def _representative(frames: list[Image.Image]) -> Image.Image:
    """The frame whose colours are nearest the average of the lively frames; only if none is lively, the liveliest."""
    spread = [ImageStat.Stat(frame.convert("L")).stddev[0] for frame in frames]
    lively = [i for i, s in enumerate(spread) if s >= _MIN_SPREAD]
    if not lively:
        return frames[max(range(len(frames)), key=spread.__getitem__)]
    histograms = {i: frames[i].histogram() for i in lively}
    mean = [sum(counts) / len(lively) for counts in zip(*histograms.values())]
    return frames[min(lively, key=lambda i: sum((a - b) ** 2 for a, b in zip(histograms[i], mean)))]


def _strip(frames: list[Image.Image]) -> Image.Image:
    """STRIP_FRAMES tiles in one row, all the same size; a clip with fewer frames repeats its nearest ones."""
    first = frames[0]
    height = min(STRIP_HEIGHT, first.height)
    width = max(1, round(first.width * height / first.height))
    strip = Image.new("RGB", (width * STRIP_FRAMES, height))
    for k in range(STRIP_FRAMES):
        frame = frames[k * len(frames) // STRIP_FRAMES]
        strip.paste(frame.resize((width, height), Image.Resampling.LANCZOS), (k * width, 0))
    return strip


def _jpeg_within(image: Image.Image, budget: int) -> bytes:
    while True:
        for quality in _POSTER_QUALITIES:
            data = _jpeg(image, quality)
            if len(data) <= budget:
                return data
        if max(image.size) <= STRIP_HEIGHT:  # a frame this small is under any sensible budget already
            return data
        image = image.resize((max(1, image.width * 3 // 4), max(1, image.height * 3 // 4)), Image.Resampling.LANCZOS)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


# -- the folder -------------------------------------------------------------


def _publish(data: bytes, dest: Path, scratch: Path) -> None:
    # A unique name, so two processes posting the same video cannot collide; not mkstemp, whose 0600 mode
    # would carry over to the published file.
    tmp = scratch / f".{dest.name}.{uuid.uuid4().hex[:12]}.part"
    try:
        with open(tmp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # after a crash, a poster is either whole or absent, never empty
        os.replace(tmp, dest)
    except OSError as exc:
        raise PosterError(
            f"The poster could not be written to the data folder ({exc.strerror or type(exc).__name__}).", permanent=False
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _scan(videos_dir: Path) -> tuple[list[Path], list[tuple[str, Path]]]:
    """Videos with neither poster nor reason (newest first), and poster files whose video is gone (with its stem)."""
    videos: dict[str, tuple[float, Path]] = {}
    extras: dict[str, list[Path]] = {}
    try:
        entries = list(os.scandir(videos_dir))
    except FileNotFoundError:
        return [], []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        name = entry.name
        for suffix in (POSTER_SUFFIX, STRIP_SUFFIX, REASON_SUFFIX):
            if name.endswith(suffix):
                extras.setdefault(name[: -len(suffix)], []).append(Path(entry.path))
                break
        else:
            stem, suffix = os.path.splitext(name)
            if suffix.lower() in VIDEO_SUFFIXES:
                try:
                    if entry.is_file(follow_symlinks=False):
                        videos[stem] = (entry.stat(follow_symlinks=False).st_mtime, Path(entry.path))
                except FileNotFoundError:
                    continue  # deleted while the folder was read
    # As `PosterFiles.ready`: a strip alone is what a process stopped between the two images leaves.
    kinds = {stem: {p.name[len(stem) :] for p in paths} for stem, paths in extras.items()}
    has_one = {stem for stem, found in kinds.items() if REASON_SUFFIX in found or {POSTER_SUFFIX, STRIP_SUFFIX} <= found}
    missing = [path for stem, (_, path) in sorted(videos.items(), key=lambda item: -item[1][0]) if stem not in has_one]
    orphans = [(stem, path) for stem, paths in extras.items() if stem not in videos for path in paths]
    return missing, orphans
