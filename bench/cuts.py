"""Cuts, frames and loops: wall time to pick a frame, stitch shots and make a GIF with videogen.frames, .cuts, .loops.

Clips come from the simulator's renderer at 16:9 (1280×720, 24 fps), as demo videos are.

- A frame at any time of an 8 s clip: `frame_at(clip, seconds=t)` from scratch (its probe included), at
  FRAME_TIMES across the clip; the value is the slowest time's median. Baseline: ffmpeg decoding the whole
  clip to nothing (`-f null`). Target ≤ 0.3 s.
- A stitch of STITCH_CLIPS clips of STITCH_SECONDS s by stream copy (median of REPEATS), against re-encoding
  the same shots (`method="reencode"`, run once: it is the slow one). Target ≤ 1 s and at least 10× faster
  (for the full size only: `--quick` stitches 3 clips of 2 s).
- A GIF of a 5 s clip at 480 px and 12 fps (median of REPEATS), against decoding that clip to nothing; its bytes
  against the 5 MB target. An animated WebP of the same is reported beside it, without a target.

Each median follows one warm-up run (page cache, imports).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import imageio_ffmpeg

from videogen.cuts import Shot, stitch
from videogen.frames import frame_at, probe
from videogen.loops import make_loop
from videogen.simulator.render import render_clip

from .common import BODY, median, sample_clip
from .report import Row, Section, ratio

FRAME_SECONDS = 8
FRAME_TIMES = (0.0, 2.0, 4.0, 6.0, 7.99)
STITCH_CLIPS, STITCH_SECONDS = 8, 5
LOOP_WIDTH, LOOP_FPS = 480, 12
REPEATS = 5
FRAME_TARGET_S = 0.3
COPY_TARGET_S = 1.0
COPY_SPEEDUP = 10.0
GIF_TARGET_S = 3.0
GIF_TARGET_BYTES = 5 * 1024 * 1024


def _decode_only(clip: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-f", "null", "-"],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return time.perf_counter() - started


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _medians(action, repeats: int) -> tuple[float, list[float]]:
    samples = [_timed(action) for _ in range(repeats + 1)][1:]  # the first is the warm-up
    return median(samples), samples


def run(quick: bool, work: Path) -> Section:
    repeats = 1 if quick else REPEATS
    clips_count, clip_seconds = (3, 2) if quick else (STITCH_CLIPS, STITCH_SECONDS)
    out = work / "cuts"
    out.mkdir(parents=True, exist_ok=True)
    section = Section("cuts", details={"repeats": repeats})

    # -- a frame at any time ------------------------------------------------
    clip = out / f"clip-{FRAME_SECONDS}s-16x9.mp4"
    render_clip(clip, prompt=BODY["prompt"], aspect_ratio="16:9", duration=FRAME_SECONDS, seed=1)
    frame_s = {t: _medians(lambda t=t: frame_at(clip, seconds=t), repeats) for t in FRAME_TIMES}
    slowest_t = max(frame_s, key=lambda t: frame_s[t][0])
    slowest = frame_s[slowest_t][0]
    decode_s = median([_decode_only(clip) for _ in range(repeats + 1)][1:])
    section.details["frame_s"] = {f"{t:g}": samples for t, (_, samples) in frame_s.items()}
    section.details["frame_decode_s"] = decode_s
    section.rows.append(
        Row(
            "cuts",
            f"frame at any time of a {FRAME_SECONDS} s 16:9 clip (slowest: {slowest_t:g} s)",
            slowest,
            "s",
            decode_s,
            "ffmpeg decode to null",
            ratio(slowest, decode_s),
            "×decode",
            target=f"≤ {FRAME_TARGET_S:g} s",
            passed=slowest <= FRAME_TARGET_S,
        )
    )

    # -- a stitch by stream copy against re-encoding ------------------------
    shots = []
    for seed in range(1, clips_count + 1):
        path = out / f"shot-{seed}.mp4"
        render_clip(path, prompt=f"{BODY['prompt']}, shot {seed}", aspect_ratio="16:9", duration=clip_seconds, seed=seed)
        shots.append(Shot(path, generation_id=f"bench-{seed}"))
    copy_s, copy_samples = _medians(lambda: stitch(shots, out / "cut-copy.mp4", method="copy"), repeats)
    reencode_s = _timed(lambda: stitch(shots, out / "cut-reencode.mp4", method="reencode"))
    copied = probe(out / "cut-copy.mp4")
    section.details.update(
        stitch_copy_s=copy_samples, stitch_reencode_s=reencode_s, stitch_frames=copied.frames, stitch_duration_s=copied.duration
    )
    section.rows.append(
        Row(
            "cuts",
            f"stitch {clips_count} clips of {clip_seconds} s by stream copy",
            copy_s,
            "s",
            reencode_s,
            "re-encode the same",
            ratio(copy_s, reencode_s),
            "×re-encode",
            # The target is for the full size: a quick run's few short clips leave ffmpeg's start-up most of the time.
            target="" if quick else f"≤ {COPY_TARGET_S:g} s, ≥ {COPY_SPEEDUP:g}× faster",
            passed=None if quick else copy_s <= COPY_TARGET_S and reencode_s >= COPY_SPEEDUP * copy_s,
        )
    )

    # -- loops --------------------------------------------------------------
    five = sample_clip(work)
    loop_decode_s = median([_decode_only(five) for _ in range(repeats + 1)][1:])
    gif_s, gif_samples = _medians(lambda: make_loop(five, out / "loop.gif", fmt="gif", width=LOOP_WIDTH, fps=LOOP_FPS), repeats)
    gif = make_loop(five, out / "loop.gif", fmt="gif", width=LOOP_WIDTH, fps=LOOP_FPS)
    webp_s, webp_samples = _medians(lambda: make_loop(five, out / "loop.webp", fmt="webp", width=LOOP_WIDTH, fps=LOOP_FPS), repeats)
    webp = make_loop(five, out / "loop.webp", fmt="webp", width=LOOP_WIDTH, fps=LOOP_FPS)
    section.details.update(
        loop_decode_s=loop_decode_s,
        gif_s=gif_samples,
        gif_bytes=gif.size_bytes,
        gif_frames=gif.frames,
        webp_s=webp_samples,
        webp_bytes=webp.size_bytes,
        webp_frames=webp.frames,
        loop_size=(gif.width, gif.height),
    )
    section.rows.append(
        Row(
            "cuts",
            f"GIF of a 5 s clip at {LOOP_WIDTH} px, {LOOP_FPS} fps",
            gif_s,
            "s",
            loop_decode_s,
            "ffmpeg decode to null",
            ratio(gif_s, loop_decode_s),
            "×decode",
            target=f"≤ {GIF_TARGET_S:g} s",
            passed=gif_s <= GIF_TARGET_S,
        )
    )
    section.rows.append(
        Row(
            "cuts",
            f"GIF bytes ({gif.width}×{gif.height}, {gif.frames} frames)",
            gif.size_bytes / 2**20,
            "MB",
            GIF_TARGET_BYTES / 2**20,
            "budget",
            ratio(gif.size_bytes, GIF_TARGET_BYTES),
            "×budget",
            target=f"≤ {GIF_TARGET_BYTES // 2**20} MB",
            passed=gif.size_bytes <= GIF_TARGET_BYTES,
        )
    )
    section.rows.append(
        Row(
            "cuts",
            f"animated WebP of the same ({webp.size_bytes / 2**20:.1f} MB)",
            webp_s,
            "s",
            gif_s,
            "GIF",
            ratio(webp_s, gif_s),
            "×GIF",
        )
    )
    return section
