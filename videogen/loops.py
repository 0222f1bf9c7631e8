"""A saved video (or a stretch of it) as a looping GIF or animated WebP, small enough to post.

    result = make_loop(video, dest, fmt="gif", width=480, fps=12, pingpong=True, in_s=1.0, out_s=4.0)
    result.size_bytes, result.frames        # what the page shows before the download button
    except LoopTooLargeError as exc: exc.suggested_width

One ffmpeg run decodes the stretch once: frames are picked by number (exact to
the frame, as videogen.frames.frame_range names them), brought to the rate and
width asked for, and, for a ping-pong loop, followed by the same frames backwards
without repeating either end (n frames become 2n - 2), so the loop turns without
a stutter. A GIF gets its palette in two passes over those frames within the
same run: palettegen reads them all, then paletteuse maps each to that one
palette (ordered dithering, which changes little from frame to frame and so
compresses well). A WebP is encoded by ffmpeg's libwebp_anim where this ffmpeg
has it, and otherwise by Pillow from the decoded frames.

Animated WebP (libwebp) folds a frame identical to the one before into it, so
`frames` counts the frames in the file, as read back with Pillow.

The loop is written under a temporary name; one over `max_bytes` is removed and
refused with LoopTooLargeError, which suggests a width that should fit. A UI can
make the loop into a scratch file to show its size, then offer that file.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from PIL import Image

from .frames import FrameError, VideoInfo, frame_range, probe, publish_file, run_ffmpeg, scratch_file

__all__ = ["LOOP_FPS", "LOOP_MAX_BYTES", "LOOP_WIDTH", "LoopError", "LoopFormat", "LoopResult", "LoopTooLargeError", "make_loop"]

LoopFormat = Literal["gif", "webp"]

LOOP_WIDTH = 480
LOOP_FPS = 12
#: The largest loop made; past it, LoopTooLargeError suggests a smaller width.
LOOP_MAX_BYTES = 8 * 1024 * 1024
#: The longest stretch a loop takes: every frame is held in memory (ping-pong and the GIF palette need them all).
MAX_SECONDS = 20.0
MIN_WIDTH = 64
_WEBP_QUALITY = 75
# 0 (fastest) to 6 (smallest): 4 is libwebp's own default, most of the saving for a fraction of the time.
_WEBP_EFFORT = 4
# Bytes grow with the width to a power between this (small frames, where the palette and headers weigh) and 2
# (the pixels); assuming the lower one errs towards a width that fits, and the margin covers the rest.
_BYTES_GROWTH = 1.5
_SUGGESTION_MARGIN = 0.95
_MAX_TIMEOUT = 300.0
# palettegen weighs what changes between frames (stats_mode=diff): the moving part is what the eye follows.
# paletteuse redraws only the rectangle that changed, with ordered dithering, which stays put from frame to frame.
_GIF_PALETTE = ",split[p][q];[p]palettegen=stats_mode=diff[pal];[q][pal]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle"
_PPM_HEADER = re.compile(rb"P6\s+(\d+)\s+(\d+)\s+255\s")


class LoopError(Exception):
    """A loop that cannot be made; `reason` says why in a sentence naming the clip."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LoopTooLargeError(LoopError):
    """The loop came out over the limit; `suggested_width` should fit (None when the width is at its least already)."""

    def __init__(self, size_bytes: int, limit: int, width: int, suggested_width: int | None) -> None:
        fix = f"try {suggested_width} px wide." if suggested_width else "make it shorter or choose fewer frames per second."
        super().__init__(f"The loop is {_mb(size_bytes)} at {width} px wide, over the {_mb(limit)} limit; {fix}")
        self.size_bytes = size_bytes
        self.limit = limit
        self.width = width
        self.suggested_width = suggested_width


@dataclass(frozen=True)
class LoopResult:
    path: Path
    fmt: LoopFormat
    size_bytes: int
    #: Frames in the file (ping-pong included).
    frames: int
    width: int
    height: int
    #: Frames per second as made: the one asked for, or the clip's own when that is lower.
    fps: Fraction
    #: How long one pass of the loop lasts, in seconds.
    duration: float


def make_loop(
    video: Path | str,
    dest: Path | str,
    *,
    fmt: LoopFormat = "gif",
    width: int = LOOP_WIDTH,
    fps: int | Fraction = LOOP_FPS,
    pingpong: bool = False,
    in_s: float | None = None,
    out_s: float | None = None,
    max_bytes: int | None = LOOP_MAX_BYTES,
    scratch: Path | None = None,
    timeout: float | None = None,
) -> LoopResult:
    """Make `video` (from `in_s` to `out_s`) into a looping GIF or WebP at `dest`, replacing it.

    `width` is capped at the clip's own (never enlarged) and `fps` at its rate. LoopError when the clip cannot be
    read or the stretch is outside it or too long; LoopTooLargeError (and no file) when the loop is over `max_bytes`.
    """
    if fmt not in ("gif", "webp"):
        raise ValueError(f"fmt must be gif or webp, got {fmt!r}")
    dest = Path(dest)
    try:
        info = probe(video)
        first, end = frame_range(info, in_s, out_s)
    except FrameError as exc:
        raise LoopError(exc.reason) from None
    span = float((info.frame_pts[end] if end < info.frames else info.end_pts) - info.frame_pts[first])
    if span > MAX_SECONDS + 1e-6:
        raise LoopError(f"A loop lasts at most {MAX_SECONDS:g} s and {info.path.name} from there is {span:.1f} s; trim it shorter.")
    rate = min(Fraction(fps), info.fps)
    shown_width, shown_height = info.display_size
    out_width = max(2, min(int(width), shown_width))
    out_height = max(2, round(out_width * shown_height / shown_width / 2) * 2)
    # Too few frames to turn back on: there is nothing between the two ends.
    turn = pingpong and span * rate >= 3
    graph = _frames_graph(info, first, end, rate, out_width, out_height, turn)
    limit = timeout or min(_MAX_TIMEOUT, 30.0 + 3.0 * span)
    tmp = scratch_file(dest, scratch)
    try:
        if fmt == "gif":
            _ffmpeg_encode(info, graph + _GIF_PALETTE, ["-f", "gif", "-loop", "0"], tmp, limit)
        elif _has_encoder("libwebp_anim"):
            webp = ["-c:v", "libwebp_anim", "-lossless", "0", "-quality", str(_WEBP_QUALITY), "-compression_level", str(_WEBP_EFFORT)]
            _ffmpeg_encode(info, graph, [*webp, "-loop", "0", "-f", "webp"], tmp, limit)
        else:
            _pillow_webp(info, graph, rate, tmp, limit)
        size_bytes = tmp.stat().st_size
        frames = _frame_count(tmp, info)
        if max_bytes is not None and size_bytes > max_bytes:
            raise LoopTooLargeError(size_bytes, max_bytes, out_width, _suggest(out_width, size_bytes, max_bytes))
        publish_file(tmp, dest)
    except OSError as exc:
        raise LoopError(f"The loop could not be written ({exc.strerror or type(exc).__name__}).") from None
    finally:
        tmp.unlink(missing_ok=True)
    return LoopResult(dest, fmt, size_bytes, frames, out_width, out_height, rate, frames / rate)


def _frames_graph(info: VideoInfo, first: int, end: int, rate: Fraction, width: int, height: int, turn: bool) -> str:
    """The filter graph from the clip to the loop's frames in RGB, ending open (no output label)."""
    steps = [f"[0:v:0]trim=start_frame={first}:end_frame={end}", "setpts=PTS-STARTPTS", f"fps={rate}"]
    # As videogen.frames decodes a frame: an untagged HD clip is BT.709, as a browser shows it.
    matrix = ":in_color_matrix=bt709" if info.matrix is None and (info.height >= 720 or info.width >= 1280) else ""
    steps += [f"scale={width}:{height}:flags=lanczos{matrix}", "setsar=1", "format=rgb24"]
    graph = ",".join(steps)
    if turn:
        # Backwards without the last frame (already shown) and the first (shown next, as the loop starts over).
        graph += ",split[fwd][back];[back]trim=start_frame=1,reverse,trim=start_frame=1,setpts=PTS-STARTPTS[rev];"
        graph += "[fwd][rev]concat=n=2:v=1:a=0"
    return graph


def _ffmpeg_encode(info: VideoInfo, graph: str, output: list[str], tmp: Path, timeout: float) -> None:
    args = [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(info.path.absolute()),
        "-filter_complex", graph + "[out]", "-map", "[out]", "-an",
        *output, str(tmp.absolute()),
    ]  # fmt: skip
    done = _run(args, timeout, info)
    if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        raise LoopError(f"ffmpeg could not make a loop of {info.path.name}: {_tail(done.stderr)}")


def _pillow_webp(info: VideoInfo, graph: str, rate: Fraction, tmp: Path, timeout: float) -> None:
    args = [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(info.path.absolute()),
        "-filter_complex", graph + "[out]", "-map", "[out]", "-an",
        "-fps_mode", "passthrough", "-c:v", "ppm", "-f", "image2pipe", "-",
    ]  # fmt: skip
    done = _run(args, timeout, info)
    frames = _split_ppm(done.stdout)
    if not frames:
        raise LoopError(f"ffmpeg could not decode {info.path.name} for a loop: {_tail(done.stderr)}")
    out = io.BytesIO()
    frames[0].save(
        out,
        "WEBP",
        save_all=True,
        append_images=frames[1:],
        duration=round(1000 / rate),
        loop=0,
        quality=_WEBP_QUALITY,
        method=_WEBP_EFFORT,
    )
    with open(tmp, "xb") as written:
        written.write(out.getvalue())


def _run(args: list[str], timeout: float, info: VideoInfo):
    try:
        return run_ffmpeg(args, timeout=timeout, clip=info.path.name)
    except FrameError as exc:
        raise LoopError(exc.reason) from None


@functools.cache
def _has_encoder(name: str) -> bool:
    """Whether the bundled ffmpeg was built with the encoder `name` (libwebp is optional in ffmpeg builds)."""
    try:
        listing = run_ffmpeg(["-hide_banner", "-nostdin", "-encoders"], timeout=15.0, clip="its encoder list").stdout
    except FrameError:
        return False
    return re.search(rb"^\s*\S{6}\s+" + re.escape(name.encode()) + rb"\s", listing, re.M) is not None


def _frame_count(path: Path, info: VideoInfo) -> int:
    try:
        with Image.open(path) as image:
            return getattr(image, "n_frames", 1)
    except (OSError, SyntaxError, ValueError) as exc:
        raise LoopError(f"The loop made from {info.path.name} cannot be read back ({exc}).") from None


def _suggest(width: int, size_bytes: int, limit: int) -> int | None:
    """A width whose loop should come in under `limit`, as bytes grow with the width to the power _BYTES_GROWTH."""
    if width <= MIN_WIDTH:
        return None
    suggestion = int(width * (limit / size_bytes) ** (1 / _BYTES_GROWTH) * _SUGGESTION_MARGIN) // 8 * 8
    return max(MIN_WIDTH, min(suggestion, width - 8))


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


def _tail(stderr: bytes, lines: int = 6) -> str:
    text = stderr.decode(errors="replace").strip().splitlines()
    return " ".join(line.strip() for line in text[-lines:])[:500] or "(no output)"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"
