"""One frame of a saved video, exactly the one asked for, as a PNG; and what a clip holds, read without decoding it.

    info = probe(video)                          # frames, rate, size, sound, keyframes; FrameError if unreadable
    png = frame_at(video)                        # the last frame, at full resolution
    png = frame_at(video, 12)                    # the 13th frame (0-based; -1 is the last)
    png = frame_at(video, seconds=2.5)           # the frame on screen 2.5 s into the clip
    upload = keep_frame(video, param, data_dir)  # the frame kept as an upload, `upload:<sha>.png`

The next shot of a story often starts where the last one ended, so its first
frame is the last one's final frame, picked here and kept as an upload like any
image a person gives (videogen/media.py checks it against the model's rules).

`probe` runs ffmpeg once with the streams copied, not decoded, into its
`framecrc` listing: one line per packet with its timestamps and flags. That
gives every frame's time (so a time or an index names one frame, whatever the
rate or the container's clock), the keyframes (which a stream copy must cut
on), the codec setup's checksum (two clips whose setups match can be joined
without decoding), and damage, which ffmpeg's demuxer reports while reading.
Packets a container marks to be skipped (the lead-in of an edit list, audio
priming) are left out, as the decoder leaves them out.

A frame is decoded by seeking to halfway between it and the one before: ffmpeg
seeks to the keyframe before that point, decodes from there and drops every
frame that starts earlier, so the first frame out is the one asked for, however
its timestamp was rounded. That frame's timestamp (from ffmpeg's showinfo) is
checked; where it is another frame (a demuxer that seeks loosely, as MPEG-TS
does), the clip is decoded from its start and the frame picked by its number.
Colours are converted as a browser shows them: by the matrix the clip is tagged
with, and, for an untagged HD clip, BT.709; anamorphic pixels are made square.

Cuts (videogen/cuts.py) and loops (videogen/loops.py) read clips through
`probe` and `frame_range` too, and run ffmpeg through `run_ffmpeg`.
"""

from __future__ import annotations

import bisect
import io
import os
import re
import subprocess
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

from . import media
from .catalog import Param

__all__ = [
    "AudioInfo",
    "FrameError",
    "VideoInfo",
    "frame_at",
    "frame_range",
    "index_at",
    "keep_frame",
    "probe",
    "publish_file",
    "run_ffmpeg",
    "scratch_file",
]

#: How far a time may miss a frame's start and still name it: timestamps are rounded (to the millisecond in WebM).
TIME_TOLERANCE = 0.001
_PROBE_TIMEOUT = 20.0
# A decode's default time limit grows with the clip, up to this: past it, ffmpeg is stuck rather than busy.
_MAX_DECODE_TIMEOUT = 120.0
# Frame rates as encoders write them; an average within this share of one of them is taken to be it.
_COMMON_RATES = tuple(
    Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60", "12", "15", "16", "8", "10")
)
_RATE_SNAP = 0.002
# A header's rate that the frames' own average misses by more than this is not the clip's.
_RATE_AGREES = 0.02
# Header lines of `-loglevel level+info`: "[info] text" or "[h264 @ 0x…] [error] text".
_LOG_LINE = re.compile(r"^(?:\[[^\]]* @ [^\]]*\] )?\[(\w+)\] ?(.*)$")
_BAD_LEVELS = {"error", "fatal", "panic"}
_VIDEO_HEADER = re.compile(r"^\s*Stream #0:\d+.*?: Video: (\w+).*?, ([a-z0-9_]+)(?:\(([^)]*)\))?, \d+x\d+")
_HEADER_FPS = re.compile(r", (\d+(?:\.\d+)?) fps")
_SHOWN = re.compile(r"\bpts_time:\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)")
_START = re.compile(r"^\s*Duration: .*?, start: (-?\d+(?:\.\d+)?)")
_STREAM_FACT = re.compile(r"^#(\w+) (\d+): (.*)$")
_PACKET = re.compile(r"^(\d+),\s*(-?\d+),\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*0x[0-9a-f]+(.*)$")
_FLAGS = re.compile(r"F=0x([0-9A-Fa-f]+)")
_KEY, _DISCARD = 0x1, 0x4
# Matrices ffmpeg names in a stream's header; an untagged clip shows none of them.
_MATRICES = ("bt709", "bt470bg", "smpte170m", "bt2020nc", "bt2020c", "smpte240m", "fcc", "ycgco")


class FrameError(Exception):
    """A clip (or a frame of it) that cannot be had; `reason` says why in a sentence naming the clip."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    layout: str
    #: The codec setup's checksum: two streams with the same one decode with the same settings.
    setup: str


@dataclass(frozen=True)
class VideoInfo:
    """What a clip holds, from its packets: nothing here needed a decode."""

    path: Path
    width: int
    height: int
    #: Frames per second, as a fraction (24000/1001 for "23.976"): the nearest common rate to the clip's average.
    fps: Fraction
    #: Every shown frame's start, in the clip's clock (seconds from the container's start), in order.
    frame_pts: tuple[Fraction, ...]
    #: Each shown frame's decoding time, in display order. Where frames are stored out of display order
    #: (B-frames) these are out of order too, which decides where a stream copy may cut.
    frame_dts: tuple[Fraction, ...]
    #: Indices of the frames that are keyframes: where a decode can start and a stream copy can cut.
    keyframes: tuple[int, ...]
    #: Where the last frame ends, in the clip's clock.
    end_pts: Fraction
    codec: str
    pix_fmt: str
    sar: Fraction
    #: The colour matrix the clip is tagged with ("bt709"), or None when untagged.
    matrix: str | None
    #: The codec setup's checksum; two clips with the same codec, size and setup can be joined by stream copy.
    setup: str
    audio: AudioInfo | None
    #: The container's own start time, which ffmpeg subtracts from every timestamp it reads (so `frame_pts`
    #: start near 0); what ffmpeg's concat demuxer compares its in and out points with is `clock_start + pts`.
    clock_start: Fraction = Fraction(0)

    @property
    def frames(self) -> int:
        return len(self.frame_pts)

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def reordered(self) -> bool:
        """Whether frames are stored out of display order (B-frames)."""
        return self.frame_pts != self.frame_dts

    @property
    def frame_times(self) -> tuple[float, ...]:
        """Each frame's start in seconds from the first frame's start."""
        first = self.frame_pts[0]
        return tuple(float(t - first) for t in self.frame_pts)

    @property
    def duration(self) -> float:
        """Seconds from the first frame's start to the last one's end."""
        return float(self.end_pts - self.frame_pts[0])

    @property
    def constant_rate(self) -> bool:
        step = 1 / self.fps
        return all(abs((b - a) - step) <= step / 20 + Fraction(1, 1000) for a, b in zip(self.frame_pts, self.frame_pts[1:]))

    @property
    def display_size(self) -> tuple[int, int]:
        """The frame's size as shown: anamorphic pixels stretched to square ones."""
        if self.sar in (0, 1):
            return self.width, self.height
        return max(2, round(self.width * self.sar / 2) * 2), self.height


# -- reading a clip ---------------------------------------------------------


def probe(video: Path | str, *, timeout: float = _PROBE_TIMEOUT) -> VideoInfo:
    """What `video` holds, read from its packets without decoding; FrameError when it is missing, damaged or holds no video."""
    path = Path(video)
    name = path.name
    if not path.is_file():
        raise FrameError(f"{name} is not there: the video file is missing.")
    args = [
        "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info",
        "-i", str(path.absolute()),
        "-map", "0:v:0", "-map", "0:a:0?",
        "-c", "copy", "-f", "framecrc", "-",
    ]  # fmt: skip
    result = run_ffmpeg(args, timeout=timeout, clip=name)
    log = [_LOG_LINE.match(line) for line in result.stderr.decode(errors="replace").splitlines()]
    entries = [(m[1], m[2]) for m in log if m]
    header = [text for level, text in entries if level == "info"]
    if not any(text.startswith("Input #0") for text in header):
        raise FrameError(f"{name} could not be read as a video: it is damaged, incomplete or of another kind.")
    video_line = next((m for text in header if (m := _VIDEO_HEADER.match(text))), None)
    if video_line is None:
        raise FrameError(f"{name} holds no video stream.")
    damage = next((text for level, text in entries if level in _BAD_LEVELS), None)
    if damage is not None or result.returncode != 0:
        cause = f" (ffmpeg: {damage.strip()[:160]})" if damage else ""
        raise FrameError(f"{name} is damaged or incomplete, so its frames cannot all be decoded{cause}.")
    facts, packets = _listing(result.stdout.decode(errors="replace"))
    return _info(path, video_line, header, facts, packets)


def _listing(text: str) -> tuple[dict[tuple[str, int], str], list[tuple[int, int, int, int, int]]]:
    """framecrc's stream facts by (name, stream) and its packets as (stream, dts, pts, duration, flags), kept ones only."""
    facts: dict[tuple[str, int], str] = {}
    packets = []
    for line in text.splitlines():
        if line.startswith("#"):
            if fact := _STREAM_FACT.match(line):
                facts[(fact[1], int(fact[2]))] = fact[3].strip()
        elif packet := _PACKET.match(line):
            flag = _FLAGS.search(packet[6])
            flags = int(flag[1], 16) if flag else _KEY  # framecrc names flags only when they differ from "keyframe"
            if not flags & _DISCARD:
                packets.append((int(packet[1]), int(packet[2]), int(packet[3]), int(packet[4]), flags))
    return facts, packets


def _info(path: Path, video_line: re.Match, header: list[str], facts: dict, packets: list) -> VideoInfo:
    name = path.name
    tb = Fraction(facts.get(("tb", 0), "0") or "0")
    video = sorted(((pts, dur, flags, dts) for stream, dts, pts, dur, flags in packets if stream == 0), key=lambda p: p[0])
    if not tb or not video:
        raise FrameError(f"{name} has no frames to show.")
    size = re.match(r"(\d+)x(\d+)", facts.get(("dimensions", 0), ""))
    if not size:
        raise FrameError(f"{name} does not state its frame size.")
    frame_pts = tuple(pts * tb for pts, *_ in video)
    stated = _HEADER_FPS.search(video_line.string)
    fps = _rate(frame_pts, Fraction(stated[1]) if stated else None)
    last_duration = video[-1][1] * tb if video[-1][1] > 0 else 1 / fps
    props = (video_line[3] or "").split(", ")
    audio = None
    if ("media_type", 1) in facts and facts[("media_type", 1)] == "audio":
        audio = AudioInfo(
            codec=facts.get(("codec_id", 1), "unknown"),
            sample_rate=int(facts.get(("sample_rate", 1), "0") or 0),
            layout=facts.get(("channel_layout_name", 1), "unknown"),
            setup=facts.get(("extradata", 1), ""),
        )
    start = next((m[1] for text in header if (m := _START.search(text))), "0")
    return VideoInfo(
        path=path,
        width=int(size[1]),
        height=int(size[2]),
        fps=fps,
        frame_pts=frame_pts,
        frame_dts=tuple(dts * tb for *_, dts in video),
        keyframes=tuple(i for i, (_, _, flags, _) in enumerate(video) if flags & _KEY),
        end_pts=frame_pts[-1] + last_duration,
        codec=facts.get(("codec_id", 0), video_line[1]),
        pix_fmt=video_line[2],
        sar=_sar(facts.get(("sar", 0), "1/1")),
        # "bt709", or "bt2020nc/bt2020/smpte2084" when matrix, primaries and transfer differ.
        matrix=next((p.split("/")[0] for p in props if p.split("/")[0] in _MATRICES), None),
        setup=facts.get(("extradata", 0), ""),
        audio=audio,
        clock_start=Fraction(start),
    )


def _rate(frame_pts: tuple[Fraction, ...], stated: Fraction | None) -> Fraction:
    """The clip's frame rate: the one its header states (rounded there to two decimals), unless its frames disagree."""
    average = (len(frame_pts) - 1) / (frame_pts[-1] - frame_pts[0]) if len(frame_pts) > 1 else None
    if stated and (average is None or abs(average - stated) <= stated * _RATE_AGREES):
        return _common(stated, Fraction(1, 2000)) or stated
    if average is None:
        return Fraction(24)
    return _common(average, _RATE_SNAP) or Fraction(average).limit_denominator(1001)


def _common(rate: Fraction, share: Fraction | float) -> Fraction | None:
    """The common frame rate nearest `rate`, if it is within `share` of it."""
    nearest = min(_COMMON_RATES, key=lambda common: abs(common - rate))
    return nearest if abs(nearest - rate) <= nearest * share else None


def _sar(text: str) -> Fraction:
    try:
        sar = Fraction(text.replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return Fraction(1)
    return sar if sar > 0 else Fraction(1)


# -- naming a frame ---------------------------------------------------------


def index_at(info: VideoInfo, seconds: float) -> int:
    """The frame on screen `seconds` into the clip (from its first frame); FrameError outside 0 … duration."""
    if not 0 <= seconds <= info.duration + TIME_TOLERANCE:
        raise FrameError(f"{info.path.name} lasts {info.duration:.2f} s; {seconds:.2f} s is outside it.")
    return max(0, bisect.bisect_right(info.frame_times, seconds + TIME_TOLERANCE) - 1)


def _resolve(info: VideoInfo, index: int | None, seconds: float | None) -> int:
    if index is not None and seconds is not None:
        raise ValueError("give a frame's index or a time, not both")
    if seconds is not None:
        return index_at(info, float(seconds))
    if index is None:
        return info.frames - 1
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"a frame index is a whole number, got {index!r}")
    found = index + info.frames if index < 0 else index
    if not 0 <= found < info.frames:
        raise FrameError(f"{info.path.name} has {info.frames} frames (0 to {info.frames - 1}); there is no frame {index}.")
    return found


def frame_range(info: VideoInfo, in_s: float | None = None, out_s: float | None = None) -> tuple[int, int]:
    """The frames a trim keeps, as (first, end) with `end` excluded: from the frame on screen at `in_s` to the last
    one that starts before `out_s`. None keeps the clip's start or end. FrameError for a trim outside the clip or keeping nothing."""
    name = info.path.name
    first = 0 if in_s is None else index_at(info, float(in_s))
    end = info.frames
    if out_s is not None:
        if not 0 < out_s <= info.duration + TIME_TOLERANCE:
            raise FrameError(f"{name} lasts {info.duration:.2f} s; a trim cannot end at {out_s:.2f} s.")
        end = bisect.bisect_left(info.frame_times, float(out_s) - TIME_TOLERANCE)
    if end <= first:
        raise FrameError(f"The trim of {name} from {in_s or 0:.2f} s to {out_s:.2f} s keeps no frame.")
    return first, end


# -- one frame --------------------------------------------------------------


def frame_at(
    video: Path | str,
    index: int | None = None,
    *,
    seconds: float | None = None,
    info: VideoInfo | None = None,
    timeout: float | None = None,
) -> bytes:
    """The frame `index` (0-based, negative from the end) or the one on screen at `seconds`, as a PNG at full
    resolution; by default the last frame. `info` (from `probe`) saves reading the clip again. FrameError when the
    clip cannot be read or decoded or the frame is outside it."""
    info = info or probe(video)
    n = _resolve(info, index, seconds)
    limit = timeout or min(_MAX_DECODE_TIMEOUT, 15.0 + info.duration)
    if n > 0:
        # Seeking is exact in MP4, MOV and WebM; in others (MPEG-TS) the demuxer may land on a later keyframe.
        # The frame that comes out says by its timestamp which one it is; a wrong one means decoding from the start.
        seek = (info.frame_pts[n - 1] + info.frame_pts[n]) / 2
        png, shown = _decode_one(info, ["-ss", f"{float(seek):.6f}"], "null", limit)
        expected = float(info.frame_pts[n] - seek)
        if png is not None and shown is not None and abs(shown - expected) < 0.25 / info.fps:
            return png
    png, _ = _decode_one(info, [], rf"select=eq(n\,{n})", limit)
    if png is None:
        raise FrameError(f"Frame {n} of {info.path.name} could not be decoded: the clip is damaged.")
    return png


def _decode_one(info: VideoInfo, seek: list[str], select: str, timeout: float) -> tuple[bytes | None, float | None]:
    """The first frame out of `select` after `seek`, as a PNG, with its timestamp as ffmpeg's showinfo tells it."""
    args = [
        "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        *seek, "-i", str(info.path.absolute()),
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", f"{select},showinfo,{rgb_filter(info)}",
        "-fps_mode", "passthrough", "-frames:v", "1",
        "-c:v", "png", "-f", "image2pipe", "-",
    ]  # fmt: skip
    result = run_ffmpeg(args, timeout=timeout, clip=info.path.name)
    if not result.stdout.startswith(b"\x89PNG"):
        return None, None
    shown = _SHOWN.search(result.stderr.decode(errors="replace"))
    return result.stdout, float(shown[1]) if shown else None


def rgb_filter(info: VideoInfo) -> str:
    """The filter from the clip's pixels to RGB as a browser shows them (square pixels, the right colour matrix)."""
    # One scale does it all, so the format after it is what that scale converts to: no second scaler.
    options = []
    if info.display_size != (info.width, info.height):
        options.append("w={}:h={}".format(*info.display_size))
    if info.matrix is None and (info.height >= 720 or info.width >= 1280):
        options.append("in_color_matrix=bt709")
    scale = f"scale={':'.join(options)}," if options else ""
    return f"{scale}setsar=1,format=rgb24"


def keep_frame(
    video: Path | str,
    param: Param,
    data_dir: Path,
    index: int | None = None,
    *,
    seconds: float | None = None,
    info: VideoInfo | None = None,
) -> media.Upload:
    """The frame (by default the last) kept as an upload for `param`, an image field: `upload.reference` goes in the
    request body. A PNG, unless the field takes no PNG or the PNG is over its size limit: then a JPEG at high quality.
    FrameError when the frame cannot be had; media.MediaError when the model's rules refuse it (its size or shape)."""
    png = frame_at(video, index, seconds=seconds, info=info)
    allowed = {f.lower() for f in param.formats}
    if (not allowed or "png" in allowed) and len(png) <= media.max_bytes(param):
        return media.save_image(png, param, data_dir)
    with Image.open(io.BytesIO(png)) as image:
        for quality in (95, 90, 85, 75):
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= media.max_bytes(param):
                break
    return media.save_image(out.getvalue(), param, data_dir)


# -- running ffmpeg, writing files --------------------------------------------


def run_ffmpeg(args: list[str], *, timeout: float, clip: str) -> subprocess.CompletedProcess[bytes]:
    """ffmpeg with `args`, without a shell; FrameError naming `clip` when it is missing, cannot start or runs too long."""
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        raise FrameError(f"ffmpeg is not available, so {clip} could not be read.") from None
    try:
        return subprocess.run([exe, *args], capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FrameError(f"ffmpeg did not finish {clip} within {timeout:g} s.") from None
    except OSError as exc:
        raise FrameError(f"ffmpeg could not be started for {clip} ({exc.strerror or type(exc).__name__}).") from None


def scratch_file(dest: Path, scratch: Path | None = None) -> Path:
    """A unique name to write `dest` under before `publish_file` renames it into place: in `scratch` (on the same
    file system as dest; by default dest's folder), with dest's suffix, so ffmpeg picks the same muxer."""
    folder = Path(scratch) if scratch is not None else Path(dest).parent
    return folder / f".{Path(dest).stem}.{uuid.uuid4().hex[:12]}.part{Path(dest).suffix}"


def publish_file(tmp: Path, dest: Path) -> None:
    """Flush `tmp` to disk and rename it to `dest`, so dest is always whole or absent; OSError as it comes."""
    with open(tmp, "rb+") as written:
        os.fsync(written.fileno())
    os.replace(tmp, dest)
