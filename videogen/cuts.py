"""Saved videos joined into one cut, each shot trimmed to the frame, the recipe kept inside the file.

    shots = [Shot(path_a, generation_id="a1:veo2"), Shot(path_b, in_s=0.5, out_s=4.0, generation_id="b2:veo2")]
    cut_plan = plan(shots)                 # what stitching would do, and why, without doing it
    result = stitch(shots, dest)           # CutResult: method "copy" or "reencode", duration, size
    read_cut(dest)                         # CutRecipe: the shots again (generation ids and trims), or None

Two ways to join the pictures. When every shot has the same codec, codec setup,
frame size and frame rate, and each trim starts on a keyframe (and, where frames
are stored out of display order, as B-frames are, does not end early), the
packets are copied as they are through ffmpeg's concat demuxer: nothing is
decoded, so a cut of any length takes well under a second and loses nothing.
Otherwise every shot is decoded, trimmed by frame number (exact to the frame),
brought to one frame size (scaled to fit and padded, keeping its shape) and one
rate, and encoded again. The size and rate are the first shot's unless given.

The sound is copied too when the pictures are, every shot has sound of the same
kind and no trim starts late (the concat demuxer would bring along the sound
packets just before an in point, out of step). Otherwise it is decoded, trimmed
to each shot's frames, given silence for shots without sound, and encoded again:
that costs little beside pictures, and keeps sound and pictures in step.

A trim keeps the frames from the one on screen at `in_s` to the last one that
starts before `out_s` (videogen.frames.frame_range), so its length is a whole
number of frames and within a frame of what was asked for.

The recipe (each shot's generation id, file name and trim, and the method) is
JSON in the MP4's comment tag, under the key "videogen_cut", so a cut can be
rebuilt or re-cut from the history. The sources' own tags are not carried over;
each shot's recipe goes into the cut's when the caller gives it (`Shot.recipe`).
The file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from .frames import FrameError, VideoInfo, frame_range, probe, publish_file, run_ffmpeg, scratch_file
from .recipe import CUT_TAG

__all__ = ["CUT_TAG", "CutError", "CutPlan", "CutRecipe", "CutResult", "Method", "Segment", "Shot", "Sound", "plan", "read_cut", "stitch"]

Method = Literal["copy", "reencode"]
#: What happens to the sound: copied as it is, decoded and encoded again (trimmed to the frame, silence where a
#: shot has none), or nothing, as no shot has any.
Sound = Literal["copy", "encode", "none"]

RECIPE_VERSION = 1
# Codecs an MP4 holds as they are; a shot in another one is encoded again.
_MP4_VIDEO = frozenset({"h264", "hevc", "av1", "vp9", "mpeg4"})
_MP4_AUDIO = frozenset({"aac", "mp3", "opus", "alac", "flac", "ac3", "eac3"})
# The quickest presets that still look right at a viewing distance; the cut is a draft to share, not a master.
_PRESET = "veryfast"
_CRF = 20
_AUDIO_RATE = 48_000
_AUDIO_BITRATE = "160k"
_AUDIO_OUT = ("-c:a", "aac", "-b:a", _AUDIO_BITRATE, "-ar", str(_AUDIO_RATE))
# Default time limits, per second of cut: a copy reads the files once, a re-encode does real work.
_COPY_SECONDS, _REENCODE_SECONDS = 0.5, 8.0
_MAX_TIMEOUT = 1800.0


class CutError(Exception):
    """A cut that cannot be made; `reason` says why in a sentence, naming the shot when one is the cause."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Shot:
    """One shot of a cut: a saved video (None when it has no local file) and an optional trim in seconds."""

    path: Path | str | None
    in_s: float | None = None
    out_s: float | None = None
    generation_id: str | None = None
    #: The shot's own recipe (`videogen.recipe.Recipe.fields()`), kept in the cut's so each shot can be made again.
    recipe: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Segment:
    """A shot as it goes into the cut: its clip and the frames kept, `first` to `end` (excluded)."""

    shot: Shot
    info: VideoInfo
    first: int
    end: int
    label: str

    @property
    def start_pts(self) -> Fraction:
        return self.info.frame_pts[self.first]

    @property
    def end_pts(self) -> Fraction:
        return self.info.frame_pts[self.end] if self.end < self.info.frames else self.info.end_pts

    @property
    def duration(self) -> float:
        return float(self.end_pts - self.start_pts)

    @property
    def trimmed(self) -> bool:
        return self.first > 0 or self.end < self.info.frames


@dataclass(frozen=True)
class CutPlan:
    """What stitching will do: the segments, the method, and why not a copy when it is not one."""

    segments: tuple[Segment, ...]
    #: What happens to the pictures: "copy" (packets as they are) or "reencode".
    method: Method
    #: Why the pictures are encoded again ("Shot 2 is 640×360 and shot 1 1280×720."); None for a copy.
    reason: str | None
    width: int
    height: int
    fps: Fraction
    sound: Sound

    @property
    def has_audio(self) -> bool:
        return self.sound != "none"

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.segments)


@dataclass(frozen=True)
class CutResult:
    path: Path
    method: Method
    #: The cut's length in seconds, read back from the file.
    duration: float
    frames: int
    width: int
    height: int
    fps: Fraction
    has_audio: bool
    size_bytes: int
    reason: str | None
    sound: Sound


@dataclass(frozen=True)
class CutRecipe:
    """A cut's recipe as read back from its file: the method and the shots (with `path` None: find it by generation id)."""

    method: Method
    shots: tuple[Shot, ...]


def plan(
    shots: list[Shot],
    *,
    method: Literal["auto", "copy", "reencode"] = "auto",
    size: tuple[int, int] | None = None,
    fps: Fraction | int | None = None,
) -> CutPlan:
    """How `shots` would be stitched, reading each clip (no decoding); CutError naming the shot that cannot be used.

    `size` and `fps` set the cut's frame size and rate (by default the first shot's); either, when it differs
    from the shots', means encoding again. `method="copy"` raises CutError when the shots cannot be copied.
    """
    if not shots:
        raise CutError("A cut needs at least one shot.")
    segments = tuple(_segment(k, shot) for k, shot in enumerate(shots, 1))
    first = segments[0].info
    width, height = size or first.display_size
    width, height = max(2, int(width) // 2 * 2), max(2, int(height) // 2 * 2)
    rate = Fraction(fps) if fps is not None else first.fps
    if method == "reencode":
        chosen: Method = "reencode"
        reason: str | None = "Encoding again was asked for."
    else:
        reason = _copy_blocker(segments, size and (width, height), rate)
        if method == "copy" and reason is not None:
            raise CutError(f"These shots cannot be joined without encoding them again: {reason}")
        chosen = "copy" if reason is None else "reencode"
    if chosen == "copy":
        width, height = first.width, first.height  # copied frames keep their stored size (and shape)
    return CutPlan(segments, chosen, reason, width, height, rate, _sound(segments, chosen))


def stitch(
    shots: list[Shot],
    dest: Path | str,
    *,
    method: Literal["auto", "copy", "reencode"] = "auto",
    size: tuple[int, int] | None = None,
    fps: Fraction | int | None = None,
    scratch: Path | None = None,
    timeout: float | None = None,
) -> CutResult:
    """Join `shots` into the MP4 `dest` (replacing it), by stream copy when they allow it; CutError when they cannot be.

    The file is written in `scratch` first (on the same file system as dest; by default dest's folder) and renamed
    into place. `timeout` bounds the ffmpeg run; by default it grows with the cut's length.
    """
    cut = plan(shots, method=method, size=size, fps=fps)
    dest = Path(dest)
    tmp = scratch_file(dest, scratch)
    per_second = _COPY_SECONDS if cut.method == "copy" else _REENCODE_SECONDS
    limit = timeout or min(_MAX_TIMEOUT, 30.0 + per_second * cut.duration)
    listing = tmp.with_name(tmp.name + ".ffconcat")
    try:
        if cut.method == "copy":
            listing.write_text(_concat_listing(cut.segments), encoding="utf-8")
            args = _copy_args(cut, listing)
        else:
            args = _reencode_args(cut)
        args += ["-map_metadata", "-1", "-metadata", f"comment={_recipe_json(cut)}", "-movflags", "+faststart", "-f", "mp4"]
        try:
            done = run_ffmpeg([*args, str(tmp.absolute())], timeout=limit, clip="the cut")
        except FrameError as exc:
            raise CutError(exc.reason) from None
        if done.returncode != 0 or not tmp.is_file():
            raise CutError(f"ffmpeg could not make the cut: {_tail(done.stderr)}")
        try:
            made = probe(tmp)
        except FrameError as exc:
            raise CutError(f"The cut ffmpeg wrote cannot be read back: {exc.reason}") from None
        size_bytes = tmp.stat().st_size
        publish_file(tmp, dest)
    except OSError as exc:
        raise CutError(f"The cut could not be written ({exc.strerror or type(exc).__name__}).") from None
    finally:
        tmp.unlink(missing_ok=True)
        listing.unlink(missing_ok=True)
    return CutResult(
        dest, cut.method, made.duration, made.frames, made.width, made.height, made.fps, made.has_audio, size_bytes, cut.reason, cut.sound
    )


def read_cut(video: Path | str, *, timeout: float = 15.0) -> CutRecipe | None:
    """The recipe a cut carries, or None when the file is no cut of this app's (or cannot be read)."""
    path = Path(video)
    if not path.is_file():
        return None
    # ffmpeg's header shortens long tags; its metadata writer gives them whole.
    args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path.absolute()), "-f", "ffmetadata", "-"]
    try:
        listing = run_ffmpeg(args, timeout=timeout, clip=path.name).stdout.decode(errors="replace")
        recipe = json.loads(_metadata(listing).get("comment", ""))[CUT_TAG]
        shots = tuple(
            Shot(
                None,
                float(s["in_s"]),
                float(s["out_s"]),
                s.get("generation_id"),
                s["recipe"] if isinstance(s.get("recipe"), dict) else None,
            )
            for s in recipe["shots"]
            if isinstance(s, dict)
        )
        method = recipe["method"]
    except (FrameError, ValueError, TypeError, KeyError):
        return None
    if method not in ("copy", "reencode") or not shots:
        return None
    return CutRecipe(method, shots)


def _metadata(listing: str) -> dict[str, str]:
    """The global tags of an ffmetadata listing, unescaped (a backslash keeps the next character as it is)."""
    tags: dict[str, str] = {}
    for line in re.split(r"(?<!\\)\n", listing):
        if line.startswith("["):
            break  # stream and chapter sections follow the global tags
        if line.startswith((";", "#")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        tags[key.lower()] = re.sub(r"\\(.)", r"\1", value, flags=re.S)
    return tags


# -- planning ---------------------------------------------------------------


def _segment(k: int, shot: Shot) -> Segment:
    label = _label(k, shot)
    if shot.path is None:
        raise CutError(f"{label} has no saved video on this machine, so it cannot go into a cut.")
    try:
        info = probe(shot.path)
        first, end = frame_range(info, shot.in_s, shot.out_s)
    except FrameError as exc:
        raise CutError(f"{label}: {exc.reason}") from None
    return Segment(shot, info, first, end, label)


def _label(k: int, shot: Shot) -> str:
    if shot.generation_id:
        return f"Shot {k} (generation {shot.generation_id})"
    if shot.path is not None:
        return f"Shot {k} ({Path(shot.path).name})"
    return f"Shot {k}"


def _copy_blocker(segments: tuple[Segment, ...], size: tuple[int, int] | None, rate: Fraction) -> str | None:
    """Why these segments cannot be joined by copying their packets, or None when they can."""
    head = segments[0]
    one = head.info
    if size is not None and (size != (one.width, one.height) or one.sar != 1):
        return f"The cut is to be {size[0]}×{size[1]} and {_lower(head.label)} is {one.width}×{one.height}."
    if rate != one.fps:
        return f"The cut is to run at {_fps(rate)} fps and {_lower(head.label)} runs at {_fps(one.fps)}."
    # What every shot is comes before where it is cut: a trim is easier to change than a clip.
    for segment in segments:
        info, label = segment.info, segment.label
        other = f" and {_lower(head.label)}"
        if info.codec not in _MP4_VIDEO:
            return f"{label} is {info.codec} video, which an MP4 does not hold as it is."
        if not info.constant_rate:
            return f"{label} has frames at uneven intervals."
        if segment is head:
            continue
        if (info.width, info.height) != (one.width, one.height):
            return f"{label} is {info.width}×{info.height}{other} {one.width}×{one.height}."
        if info.fps != one.fps:
            return f"{label} runs at {_fps(info.fps)} fps{other} at {_fps(one.fps)}."
        if (info.codec, info.pix_fmt, info.sar, info.setup) != (one.codec, one.pix_fmt, one.sar, one.setup):
            return f"{label} was encoded with other settings than {_lower(head.label)}."
    for segment in segments:
        info, label = segment.info, segment.label
        if not _copy_starts(info, segment.first):
            return f"{label} starts at {info.frame_times[segment.first]:.2f} s, which is not a keyframe a copy can start on."
        if not _copy_ends(info, segment.end):
            return f"{label} ends at {info.frame_times[segment.end]:.2f} s, where a copy cannot end: its frames are stored out of order."
    return None


def _copy_starts(info: VideoInfo, first: int) -> bool:
    """Whether a copy from frame `first` shows exactly the frames from it on: it is a keyframe, and no frame shown
    before it is stored after it (an open GOP's leading B-frames, which would decode from the previous shot)."""
    if first == 0:
        return 0 in info.keyframes
    return first in info.keyframes and all(dts < info.frame_dts[first] for dts in info.frame_dts[:first])


def _copy_ends(info: VideoInfo, end: int) -> bool:
    """Whether a copy can stop before frame `end`: the concat demuxer stops at the first packet stored (by its
    decoding time) at or after the out point, so every later frame must be stored after every earlier one."""
    if end >= info.frames:
        return True
    out = info.frame_pts[end] - Fraction(1, 1_000_000)
    return all(dts >= out for dts in info.frame_dts[end:])


def _lower(label: str) -> str:
    return label[0].lower() + label[1:]


def _fps(rate: Fraction) -> str:
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


def _sound(segments: tuple[Segment, ...], method: Method) -> Sound:
    """Sound is copied along with copied pictures only when every shot has the same kind and none starts late:
    packets of sound before an in point would come along and push the sound out of step. Otherwise it is cheap
    to decode, trim to the frame and encode again, silence filling in for shots without."""
    kinds = {segment.info.audio for segment in segments}
    if kinds == {None}:
        return "none"
    (kind, *others) = kinds
    if method == "copy" and not others and kind is not None and kind.codec in _MP4_AUDIO and all(s.first == 0 for s in segments):
        return "copy"
    return "encode"


# -- ffmpeg -----------------------------------------------------------------


def _concat_listing(segments: tuple[Segment, ...]) -> str:
    """An ffconcat script: each file with its in point (a keyframe) and out point (where its video ends)."""
    lines = ["ffconcat version 1.0"]
    for segment in segments:
        clock = segment.info.clock_start
        # In points round up and out points down to the microsecond the demuxer counts in: an in point a hair
        # early would seek to the keyframe before, an out point a hair late would keep the next frame.
        lines.append("file " + _quote(str(Path(segment.info.path).absolute())))
        if segment.first > 0:
            lines.append(f"inpoint {math.ceil((clock + segment.start_pts) * 1_000_000) / 1_000_000:.6f}")
        # Always an out point, so sound running past the last frame does not push the next shot later.
        lines.append(f"outpoint {math.floor((clock + segment.end_pts) * 1_000_000) / 1_000_000:.6f}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    # The concat demuxer reads a quoted string with no escapes inside; a quote ends it, so it is escaped outside.
    return "'" + text.replace("'", "'\\''") + "'"


def _copy_args(cut: CutPlan, listing: Path) -> list[str]:
    # Timestamps as the concat demuxer gives them (the first frame at 0), not shifted by ffmpeg by the start of
    # the earliest stream it holds: sound packets from before an in point would shift the pictures later.
    args = [
        "-hide_banner", "-nostdin", "-loglevel", "error", "-copyts",
        "-f", "concat", "-safe", "0", "-i", str(listing.absolute()),
    ]  # fmt: skip
    if cut.sound == "encode":
        inputs, chains, joins = _sound_chains(cut, first_input=1, copyts=True)
        graph = ";".join([*chains, "".join(joins) + f"concat=n={len(cut.segments)}:v=0:a=1[a]"])
        return [*args, *inputs, "-filter_complex", graph, "-map", "0:v:0", "-c:v", "copy", "-map", "[a]", *_AUDIO_OUT]
    sound = ["-map", "0:a:0", "-c:a", "copy"] if cut.sound == "copy" else ["-an"]
    return [*args, "-map", "0:v:0", "-c:v", "copy", *sound]


def _reencode_args(cut: CutPlan) -> list[str]:
    inputs: list[str] = []
    chains: list[str] = []
    w, h = cut.width, cut.height
    for i, segment in enumerate(cut.segments):
        info = segment.info
        inputs += ["-i", str(Path(info.path).absolute())]
        video = [f"[{i}:v:0]trim=start_frame={segment.first}:end_frame={segment.end}", "setpts=PTS-STARTPTS", f"fps={cut.fps}"]
        if info.display_size != (info.width, info.height):
            video.append("scale={}:{}".format(*info.display_size))
        if info.display_size != (w, h):
            video.append(f"scale=w={w}:h={h}:force_original_aspect_ratio=decrease:force_divisible_by=2")
            video.append(f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black")
        video += ["setsar=1", "format=yuv420p"]
        chains.append(",".join(video) + f"[v{i}]")
    joins = [f"[v{i}]" for i in range(len(cut.segments))]
    args = []
    if cut.has_audio:
        # The sound reads the same files again as inputs of its own: each input's streams are decoded once either way.
        _, sound, sound_joins = _sound_chains(cut, first_input=0, copyts=False)
        chains += sound
        joins = [pair for v, a in zip(joins, sound_joins) for pair in (v, a)]
        args = ["-map", "[a]", *_AUDIO_OUT]
    audio = 1 if cut.has_audio else 0
    # concat ends each segment when its longest stream does, padding shorter sound with silence.
    graph = ";".join([*chains, "".join(joins) + f"concat=n={len(cut.segments)}:v=1:a={audio}[v]" + ("[a]" if audio else "")])
    return [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        *inputs,
        "-filter_complex", graph,
        "-map", "[v]",
        "-c:v", "libx264", "-preset", _PRESET, "-crf", str(_CRF), "-pix_fmt", "yuv420p",
        "-fps_mode", "cfr", "-r", str(cut.fps),
        *args,
    ]  # fmt: skip


def _sound_chains(cut: CutPlan, *, first_input: int, copyts: bool) -> tuple[list[str], list[str], list[str]]:
    """Each segment's sound, trimmed to its frames' span (silence for a shot without), as filter chains [a0], [a1]…,
    reading the shots as inputs from `first_input` on; and the `-i` arguments for them. With `copyts`, ffmpeg
    reads the files' own timestamps rather than ones that start at the container's start."""
    inputs: list[str] = []
    chains: list[str] = []
    for i, segment in enumerate(cut.segments):
        k = first_input + i
        inputs += ["-i", str(Path(segment.info.path).absolute())]
        if segment.info.has_audio:
            clock = segment.info.clock_start if copyts else 0
            start, end = float(clock + segment.start_pts), float(clock + segment.end_pts)
            # Shifted, not restarted: sound that starts after the pictures keeps its gap, which aresample fills.
            chains.append(
                f"[{k}:a:0]atrim=start={start:.6f}:end={end:.6f},asetpts=PTS-{start:.6f}/TB,"
                f"aresample={_AUDIO_RATE}:async=1:first_pts=0,aformat=sample_fmts=fltp:channel_layouts=stereo[a{i}]"
            )
        else:
            chains.append(f"anullsrc=r={_AUDIO_RATE}:cl=stereo:d={segment.duration:.6f},aformat=sample_fmts=fltp[a{i}]")
    return inputs, chains, [f"[a{i}]" for i in range(len(cut.segments))]


def _recipe_json(cut: CutPlan) -> str:
    shots = [
        {
            "generation_id": segment.shot.generation_id,
            "file": Path(segment.info.path).name,
            "in_s": round(segment.info.frame_times[segment.first], 6),
            "out_s": round(float(segment.end_pts - segment.info.frame_pts[0]), 6),
            "frames": [segment.first, segment.end],
            **({"recipe": dict(segment.shot.recipe)} if segment.shot.recipe else {}),
        }
        for segment in cut.segments
    ]
    recipe = {CUT_TAG: {"version": RECIPE_VERSION, "method": cut.method, "shots": shots}}
    return json.dumps(recipe, separators=(",", ":"), ensure_ascii=True)


def _tail(stderr: bytes, lines: int = 6) -> str:
    text = stderr.decode(errors="replace").strip().splitlines()
    return " ".join(line.strip() for line in text[-lines:])[:500] or "(no output)"
