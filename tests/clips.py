"""Small real clips for the frame, cut and loop tests, made with the bundled ffmpeg, and ways to read them back.

Clips come from ffmpeg's test sources: `testsrc2` moves on every frame, so neighbouring frames always differ, and
`sine` gives sound that can be told from silence. They are tiny (160×90 by default) to keep the suite light.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageChops, ImageStat

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
AUDIO_RATE = 48_000
_RGB_PPM = ("-pix_fmt", "rgb24", "-c:v", "ppm", "-f", "image2pipe", "-")
_PPM_HEADER = re.compile(rb"P6\s+(\d+)\s+(\d+)\s+255\s")


def ffmpeg(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([FFMPEG, "-y", "-nostdin", "-loglevel", "error", *args], check=True, capture_output=True, timeout=timeout)


def make_clip(
    dest: Path,
    *,
    size: str = "160x90",
    rate: int | str = 24,
    seconds: float = 2,
    gop: int = 12,
    bframes: bool = True,
    audio: bool = False,
    tone: int = 440,
    pattern: str = "testsrc2",
) -> Path:
    """An H.264 clip (or VP9 for a .webm) of a moving test pattern, with a keyframe every `gop` frames;
    `bframes` stores frames out of display order, as most encoders do; `audio` adds a sine tone."""
    args = ["-f", "lavfi", "-i", f"{pattern}=s={size}:r={rate}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f={tone}:r={AUDIO_RATE}:d={seconds}"]
    if dest.suffix == ".webm":
        args += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", str(gop)]
        args += ["-c:a", "libopus"] if audio else []
    else:
        args += ["-c:v", "libx264", "-preset", "fast", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
        args += ["-bf", "2" if bframes else "0", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
        args += ["-c:a", "aac"] if audio else []
    ffmpeg(*args, str(dest))
    return dest


def decode_all(video: Path) -> list[Image.Image]:
    """Every frame of `video` as ffmpeg decodes it, in order, in RGB: the reference a picked frame must equal."""
    out = ffmpeg("-i", str(video), "-map", "0:v:0", "-fps_mode", "passthrough", *_RGB_PPM)
    frames, at, data = [], 0, out.stdout
    while (header := _PPM_HEADER.match(data, at)) is not None:
        width, height = int(header[1]), int(header[2])
        at = header.end() + width * height * 3
        frames.append(Image.frombytes("RGB", (width, height), data[header.end() : at]))
    return frames


def decode_frame(video: Path, index: int) -> Image.Image:
    """Frame `index` as ffmpeg's own select filter picks it, decoding from the start."""
    out = ffmpeg("-i", str(video), "-map", "0:v:0", "-vf", rf"select=eq(n\,{index})", "-frames:v", "1", *_RGB_PPM)
    return decode_ppm(out.stdout)


def decode_ppm(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def decode_audio(video: Path) -> list[int]:
    """The sound of `video` as mono 16-bit samples at AUDIO_RATE."""
    out = ffmpeg("-i", str(video), "-map", "0:a:0", "-ac", "1", "-ar", str(AUDIO_RATE), "-f", "s16le", "-c:a", "pcm_s16le", "-")
    data = out.stdout
    return [int.from_bytes(data[i : i + 2], "little", signed=True) for i in range(0, len(data) - 1, 2)]


def loudness(samples: list[int]) -> float:
    """Root mean square of the samples (0 for silence, ~23 000 for a full-scale sine, ~4 000 for ffmpeg's sine)."""
    return (sum(s * s for s in samples) / len(samples)) ** 0.5 if samples else 0.0


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0-255: 0 for the same picture."""
    assert a.size == b.size, (a.size, b.size)
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3
