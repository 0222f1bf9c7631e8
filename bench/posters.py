"""Posters: wall time to make a saved video's poster and filmstrip with videogen.posters.make_posters.

An 8 s 16:9 clip from the simulator's renderer, the length and shape of a
demo video. Baseline, in the same run: ffmpeg decoding the same clip once to
nothing (`-f null`), the least any poster made from its frames can cost. Each
is the median of REPEATS runs after one warm-up (page cache, imports). The
poster's and the strip's bytes are reported too. Targets: ≤ 0.5 s for both
images, a poster of at most POSTER_MAX_BYTES.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

from videogen.posters import POSTER_MAX_BYTES, STRIP_FRAMES, make_posters
from videogen.simulator.render import render_clip

from .common import BODY, median
from .report import Row, Section, ratio

DURATION = 8
REPEATS = 7
TARGET_S = 0.5


def _decode_only(clip: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-f", "null", "-"],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return time.perf_counter() - started


def _make(clip: Path) -> float:
    started = time.perf_counter()
    make_posters(clip)
    return time.perf_counter() - started


def run(quick: bool, work: Path) -> Section:
    repeats = 3 if quick else REPEATS
    clip = work / "posters" / f"clip-{DURATION}s-16x9.mp4"
    render_clip(clip, prompt=BODY["prompt"], aspect_ratio="16:9", duration=DURATION, seed=1)
    decode, make = [], []
    for _ in range(repeats + 1):  # the first of each is the warm-up
        decode.append(_decode_only(clip))
        make.append(_make(clip))
    decode, make = decode[1:], make[1:]
    files = make_posters(clip)
    poster_bytes, strip_bytes = files.poster.stat().st_size, files.strip.stat().st_size
    with Image.open(files.poster) as poster, Image.open(files.strip) as strip:
        poster_size, strip_size = poster.size, strip.size
    make_s, decode_s = median(make), median(decode)

    section = Section(
        "posters",
        details={
            "repeats": repeats,
            "clip_bytes": clip.stat().st_size,
            "make_s": make,
            "decode_s": decode,
            "poster_bytes": poster_bytes,
            "poster_size": poster_size,
            "strip_bytes": strip_bytes,
            "strip_size": strip_size,
        },
    )
    section.rows.append(
        Row(
            "posters",
            f"poster + filmstrip, {DURATION} s 16:9 clip",
            make_s,
            "s",
            decode_s,
            "ffmpeg decode to null",
            ratio(make_s, decode_s),
            "×decode",
            target=f"≤ {TARGET_S:g} s",
            passed=make_s <= TARGET_S,
        )
    )
    section.rows.append(
        Row(
            "posters",
            f"poster bytes ({poster_size[0]}×{poster_size[1]} JPEG)",
            poster_bytes / 1024,
            "KB",
            POSTER_MAX_BYTES / 1024,
            "budget",
            ratio(poster_bytes, POSTER_MAX_BYTES),
            "×budget",
            target=f"≤ {POSTER_MAX_BYTES // 1024} KB",
            passed=poster_bytes <= POSTER_MAX_BYTES,
        )
    )
    section.rows.append(
        Row(
            "posters",
            f"filmstrip bytes ({STRIP_FRAMES} frames, {strip_size[0]}×{strip_size[1]} JPEG)",
            strip_bytes / 1024,
            "KB",
            poster_bytes / 1024,
            "poster",
            ratio(strip_bytes, poster_bytes),
            "×poster",
        )
    )
    return section
