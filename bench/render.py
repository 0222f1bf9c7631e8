"""Simulator: wall time to render a clip with videogen.simulator.render.render_clip.

5 s and 8 s clips at each aspect ratio, median of REPEATS renders; baseline: a
1 s clip of the same aspect ratio, so the ratio shows what each extra second
costs over ffmpeg's fixed start-up. Each render gets its own seed, so no two
are the same clip (render_clip does not cache, but this keeps it honest).
"""

from __future__ import annotations

import time
from pathlib import Path

from videogen.simulator.render import SIZES, render_clip

from .common import BODY, median
from .report import Row, Section, ratio

DURATIONS = (5, 8)
BASELINE_DURATION = 1
REPEATS = 3
TARGET_S = 3.0  # for an 8 s 16:9 clip


def _render_time(out: Path, aspect_ratio: str, duration: int, seed: int) -> float:
    dest = out / f"{aspect_ratio.replace(':', 'x')}-{duration}s-{seed}.mp4"
    t0 = time.perf_counter()
    render_clip(dest, prompt=BODY["prompt"], aspect_ratio=aspect_ratio, duration=duration, seed=seed)
    elapsed = time.perf_counter() - t0
    dest.unlink()
    return elapsed


def run(quick: bool, work: Path) -> Section:
    durations, repeats = ((5,), 1) if quick else (DURATIONS, REPEATS)
    out = work / "render"
    section = Section("render")
    times: dict[str, dict[int, list[float]]] = {}
    seed = 0
    for aspect_ratio in SIZES:
        times[aspect_ratio] = {}
        for duration in (BASELINE_DURATION, *durations):
            samples = []
            for _ in range(repeats):
                seed += 1
                samples.append(_render_time(out, aspect_ratio, duration, seed))
            times[aspect_ratio][duration] = samples
        base = median(times[aspect_ratio][BASELINE_DURATION])
        for duration in durations:
            value = median(times[aspect_ratio][duration])
            row = Row(
                "render",
                f"render {duration} s clip, {aspect_ratio}",
                value,
                "s",
                base,
                f"{BASELINE_DURATION} s clip",
                ratio(value, base),
                f"×{BASELINE_DURATION} s",
            )
            if (aspect_ratio, duration) == ("16:9", 8):
                row.target, row.passed = f"≤ {TARGET_S:g} s", value <= TARGET_S
            section.rows.append(row)
    section.details = {"repeats": repeats, "seconds": times}
    return section
