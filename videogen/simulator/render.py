"""Render a real H.264 MP4 that stands in for an AI-generated video, and a still that stands in for a picture.

ffmpeg does all per-frame work (an animated gradient, a drifting glow and a
progress bar, composited with time expressions); Python only draws two still
RGBA images with Pillow: the prompt text and the glow. Per-frame work stays
out of Python because every test and every demo run waits for its clips;
render times are in `make bench`'s render section and docs/measurements.md.

A clip can start from a source instead of the gradient: an image (image to
video: the image, scaled to cover and centre-cropped) or a video (video to
video: the source, looped and cropped the same way). Nothing is drawn over the
input for the first 0.5 s, so the clip's first frame is the input's.

A still (`render_still`, for the image models) is drawn by Pillow alone: the
clip's gradient and prompt panel on one frame, at the size asked for, its
colours from the same digest of prompt and seed.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import logging
import os
import re
import subprocess
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

__all__ = ["STILL_FORMATS", "ClipInfo", "frame_size", "probe", "render_clip", "render_still"]

FPS = 24
MAX_DURATION = 60
SIZES: dict[str, tuple[int, int]] = {"16:9": (1280, 720), "9:16": (720, 1280)}
# The short side for a "<n>p" resolution; others render at 720. Capped, as a stand-in need not be sharp.
DEFAULT_SHORT_SIDE = 720
SHORT_SIDE_RANGE = (240, 1080)
# Widest and tallest shapes drawn; the vendors publish ratios from 9:21 to 21:9.
MAX_RATIO = 4.0
# A clip from an image or a video shows it bare for this long, so its first frame is the input's.
BARE_SOURCE_SECONDS = 0.5
_RATIO = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")
_RESOLUTION = re.compile(r"^(\d{3,4})p$", re.I)

# The quickest preset, and it still yields Constrained Baseline H.264, which every
# browser plays; file size is irrelevant for a stand-in.
_PRESET = "ultrafast"
# The gradient is smooth, so computing it at 1/4 size (a sixteenth of the pixels)
# and upscaling looks the same for a fraction of the gradients filter's cost.
_GRADIENT_DOWNSCALE = 4
_GLOW_SIZE = 240
# Browsers decode untagged HD video as BT.709; converting and tagging that way keeps colours (and an
# image-to-video clip's first frame) as they were, where swscale's BT.601 default shifts saturated ones.
_BT709 = "out_color_matrix=bt709:out_range=tv"
_BT709_TAGS = "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
_BAR_HEIGHT = 8
# Pillow's built-in font (Aileron) is a Latin subset; map common characters it
# lacks instead of drawing "tofu" boxes.
_FALLBACKS = str.maketrans({"–": "-", "—": "-", "×": "x", "€": "EUR", "£": "GBP", "ß": "ss"})
#: Pillow's name for each still format the image models are asked for.
STILL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
# A gradient is smooth: drawn this small and scaled up, it looks the same at a fraction of the cost.
_STILL_GRADIENT_SIDE = 64


@dataclass(frozen=True)
class ClipInfo:
    width: int
    height: int
    duration: float
    codec: str


def frame_size(aspect_ratio: str, resolution: str | None = None) -> tuple[int, int]:
    """Width and height for a "W:H" ratio and an optional "<n>p" resolution (the short side); both even."""
    match = _RATIO.match(aspect_ratio)
    if not match or not float(match[1]) or not float(match[2]):
        raise ValueError(f"aspect_ratio must look like 16:9, got {aspect_ratio!r}")
    if resolution is None and aspect_ratio in SIZES:
        return SIZES[aspect_ratio]
    ratio = min(max(float(match[1]) / float(match[2]), 1 / MAX_RATIO), MAX_RATIO)
    found = _RESOLUTION.match(resolution or "")
    short = min(max(int(found[1]), SHORT_SIDE_RANGE[0]), SHORT_SIDE_RANGE[1]) if found else DEFAULT_SHORT_SIDE
    long = round(short * max(ratio, 1 / ratio) / 2) * 2
    return (long, short) if ratio >= 1 else (short, long)


def render_clip(
    dest: Path,
    *,
    prompt: str,
    aspect_ratio: str,
    duration: int,
    seed: int | None = None,
    resolution: str | None = None,
    source: Path | None = None,
    source_kind: str = "image",
) -> Path:
    """Render an MP4 to `dest` (written to a temp file beside it, then atomically renamed). Returns dest.

    With `source`, the clip starts from that image or video; a source ffmpeg
    cannot read gives the plain clip instead.
    """
    width, height = frame_size(aspect_ratio, resolution)
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= MAX_DURATION:
        raise ValueError(f"duration must be a whole number of seconds from 1 to {MAX_DURATION}, got {duration!r}")
    if source_kind not in ("image", "video"):
        raise ValueError(f"source_kind must be image or video, got {source_kind!r}")

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # hashlib rather than hash(): str hashes are salted per process, and the
    # same request should always look the same.
    digest = hashlib.sha256(f"{seed!r}\x00{prompt}".encode()).digest()
    label = f"SIMULATED · {aspect_ratio} · {duration} s" + (f" · from your {source_kind}" if source else "")

    with tempfile.TemporaryDirectory(prefix="videogen-render-") as scratch:
        text_png = Path(scratch, "text.png")
        glow_png = Path(scratch, "glow.png")
        text_pos = _draw_text_layer(text_png, width, height, prompt, label)
        _draw_glow(glow_png)
        if source is not None:
            try:
                return _encode(
                    dest,
                    _ffmpeg_args(
                        width, height, duration, digest, text_png, text_pos, glow_png, _part(dest), source=(Path(source), source_kind)
                    ),
                    duration,
                )
            except RuntimeError as exc:
                # An unreadable input still gets a clip, as the fallback a person can see.
                log.info("source %s not usable, rendering without it: %s", source, exc)
                text_pos = _draw_text_layer(text_png, width, height, prompt, f"SIMULATED · {aspect_ratio} · {duration} s")
        return _encode(dest, _ffmpeg_args(width, height, duration, digest, text_png, text_pos, glow_png, _part(dest)), duration)


def _part(dest: Path) -> Path:
    # Beside dest so os.replace is an atomic rename, never a copy; a unique
    # name so concurrent renders of the same clip cannot collide. Not
    # mkstemp: its 0600 mode would carry over to the published file.
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:12]}.part")


def _encode(dest: Path, args: list[str], duration: int) -> Path:
    tmp = Path(args[-1])
    try:
        result = _ffmpeg(args, timeout=60 + 3 * duration)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg failed with exit code {result.returncode}: {_tail(result.stderr)}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def probe(path: Path) -> ClipInfo:
    """Read the first video stream's size, codec and the container duration."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    # With no output file ffmpeg prints the input header and exits non-zero,
    # so the return code says nothing; the header is what we parse.
    header = _ffmpeg([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path.absolute())], timeout=30).stderr
    duration = re.search(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", header)
    stream = re.search(r"Stream #\d+:\d+.*?: Video: (\w+).*?, (\d+)x(\d+)\b", header)
    if not duration or not stream:
        raise RuntimeError(f"could not read video stream info from {path}: {_tail(header)}")
    hours, minutes, seconds = duration.groups()
    return ClipInfo(
        width=int(stream.group(2)),
        height=int(stream.group(3)),
        duration=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        codec=stream.group(1),
    )


def _ffmpeg_args(
    width: int,
    height: int,
    duration: int,
    digest: bytes,
    text_png: Path,
    text_pos: tuple[int, int],
    glow_png: Path,
    out: Path,
    *,
    source: tuple[Path, str] | None = None,
) -> list[str]:
    colours = ":".join(f"c{i}=0x{c}" for i, c in enumerate(_palette(digest)))
    # Rotation per frame; faster than ~0.015 reads as flicker rather than drift.
    speed = 0.004 + digest[4] / 255 * 0.01
    # Lissajous path with digest-chosen periods and phase, so each clip's glow
    # wanders differently; (W-w)/2 keeps it fully on screen.
    px, py, phase = 5 + digest[5] % 5, 7 + digest[6] % 5, digest[7] / 255 * 6.283
    glow_x = f"(W-w)/2*(1+0.8*sin(2*PI*t/{px}+{phase:.3f}))"
    glow_y = f"(H-h)/2*(1+0.7*cos(2*PI*t/{py}))"
    # The bar reaches the right edge on the last frame rather than one frame after.
    bar_x = f"-w+w*(t+1/{FPS})/{duration}"
    # Over a source, nothing is drawn at first, so the first frame is the source's own.
    later = f":enable='gte(t,{BARE_SOURCE_SECONDS})'" if source else ""

    inputs = ["-i", str(text_png), "-i", str(glow_png)]
    if source is None:
        background = (
            f"gradients=s={width // _GRADIENT_DOWNSCALE}x{height // _GRADIENT_DOWNSCALE}:r={FPS}:d={duration}"
            f":n=3:{colours}:seed={int.from_bytes(digest[:4], 'big')}:speed={speed:.4f},"
            f"scale={width}:{height}:{_BT709},format=yuv420p,"
        )
    else:
        path, kind = source
        # An image repeats as a still; a video loops for as long as the clip lasts.
        inputs += (["-loop", "1", "-framerate", str(FPS)] if kind == "image" else ["-stream_loop", "-1"]) + ["-i", str(path.absolute())]
        background = (
            f"[2:v]scale={width}:{height}:force_original_aspect_ratio=increase:{_BT709},crop={width}:{height},"
            f"setsar=1,fps={FPS},format=yuv420p,"
        )
    graph = ";".join(
        [
            background + f"drawbox=y=ih-{_BAR_HEIGHT}:w=iw:h={_BAR_HEIGHT}:color=black@0.25:t=fill{later}[bg]",  # the bar's track
            f"color=c=white@0.9:s={width}x{_BAR_HEIGHT}:r={FPS}:d={duration},format=rgba[bar]",
            f"[bg][1:v]overlay=x='{glow_x}':y='{glow_y}':format=yuv420{later}[a]",
            f"[a][0:v]overlay=x={text_pos[0]}:y={text_pos[1]}:format=yuv420{later}[b]",
            f"[b][bar]overlay=x='{bar_x}':y=H-h:format=yuv420:eof_action=pass{later},format=yuv420p,{_BT709_TAGS}[out]",
        ]
    )
    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-loglevel", "error",
        *inputs,
        "-filter_complex", graph,
        "-map", "[out]",
        # A hard frame count makes the duration exact, whatever the sources do at their ends.
        "-frames:v", str(duration * FPS),
        "-r", str(FPS),
        "-c:v", "libx264",
        "-preset", _PRESET,
        "-pix_fmt", "yuv420p",
        "-movflags", "+faststart",
        "-an",
        "-f", "mp4",
        # Absolute, so a name like "a:b.mp4" cannot be read as a protocol prefix.
        str(out.absolute()),
    ]  # fmt: skip


def _ffmpeg(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg without a shell; a hang becomes a RuntimeError like any other failure."""
    try:
        return subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise RuntimeError(f"ffmpeg timed out after {timeout:g} s: {_tail(stderr)}") from exc


def _tail(text: str, lines: int = 20) -> str:
    # ffmpeg's threads echo one error down a chain of ~10 lines; the cause is
    # the first of them, so keep enough to include it.
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no output)"


def _palette(digest: bytes) -> list[str]:
    """Three hex RRGGBB colours: neighbouring hues (complements clash), moderate saturation, never too dark."""
    base = digest[8] / 255
    colours = []
    for i, hue_step in enumerate((0.0, 0.1, 0.2 + digest[9] / 255 * 0.15)):
        saturation = 0.45 + digest[10 + i] / 255 * 0.3
        value = 0.45 + digest[13 + i] / 255 * 0.35
        r, g, b = colorsys.hsv_to_rgb((base + hue_step) % 1.0, saturation, value)
        colours.append(f"{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return colours


def render_still(
    *, prompt: str, seed: int | None, width: int, height: int, image_format: str = "png", label: str = "SIMULATED", index: int = 0
) -> bytes:
    """A still of `width` x `height` as PNG, JPEG or WebP bytes (`STILL_FORMATS`), the same for the same arguments.

    `index` tells apart the pictures of one answer: the first is drawn from prompt and seed alone.
    """
    if image_format not in STILL_FORMATS:
        raise ValueError(f"image_format must be one of {', '.join(STILL_FORMATS)}, got {image_format!r}")
    if width < 1 or height < 1:
        raise ValueError(f"a still needs a size, got {width}x{height}")
    digest = hashlib.sha256(f"{seed!r}\x00{prompt}".encode() + (f"\x00{index}".encode() if index else b"")).digest()
    first, _, last = (tuple(int(c[i : i + 2], 16) for i in (0, 2, 4)) for c in _palette(digest))
    side = _STILL_GRADIENT_SIDE
    # The gradient runs at an angle the digest picks, so two prompts differ in layout as well as colour. Pillow's
    # gradient is 256 pixels square; the middle 160 stay inside its circle at any angle, so no corner is left bare.
    turned = Image.linear_gradient("L").rotate(digest[20] / 255 * 360, resample=Image.Resampling.BILINEAR)
    mask = turned.crop((48, 48, 208, 208)).resize((side, side), Image.Resampling.BILINEAR)
    small = Image.composite(Image.new("RGB", (side, side), last), Image.new("RGB", (side, side), first), mask)
    canvas = small.resize((width, height), Image.Resampling.BILINEAR).convert("RGBA")
    layer, offset = _text_layer(width, height, prompt, label)
    canvas.alpha_composite(layer, offset)
    out = io.BytesIO()
    name = STILL_FORMATS[image_format]
    picture = canvas if name == "PNG" else canvas.convert("RGB")
    picture.save(out, name, **({"compress_level": 1} if name == "PNG" else {"quality": 90}))
    return out.getvalue()


def _draw_text_layer(out: Path, width: int, height: int, prompt: str, label: str) -> tuple[int, int]:
    """Draw the label and the wrapped prompt on translucent panels; save the layer cropped and return its offset.

    Cropping matters: ffmpeg blends every overlay pixel on every frame, and
    most of the canvas is empty.
    """
    layer, offset = _text_layer(width, height, prompt, label)
    # Fast compression: the file lives for one ffmpeg run.
    layer.save(out, compress_level=1)
    return offset


def _text_layer(width: int, height: int, prompt: str, label: str) -> tuple[Image.Image, tuple[int, int]]:
    """The label and the wrapped prompt on translucent panels, cropped to what is drawn, and where it goes."""
    unit = min(width, height)
    panels = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    # Text goes on its own layer, composited last, so its antialiased edges
    # blend with the panels instead of overwriting their alpha.
    text = panels.copy()
    draw_panel, draw_text = ImageDraw.Draw(panels), ImageDraw.Draw(text)
    white = (255, 255, 255, 255)

    label_font = _font(unit // 30)
    margin, pad = unit // 24, unit // 80
    x0, y0, x1, y1 = draw_text.textbbox((margin, margin), label, font=label_font)
    draw_panel.rounded_rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), radius=pad, fill=(0, 0, 0, 120))
    draw_text.text((margin, margin), label, font=label_font, fill=white)

    font = _font(unit // 15)
    line_height = round(font.size * 1.3)
    max_lines = max(1, int(height * 0.4 // line_height))
    lines = _wrap(_displayable(prompt), font, max_width=int(width * 0.8), max_lines=max_lines)
    if lines:
        top = (height - line_height * len(lines)) // 2
        half = max(font.getlength(line) for line in lines) / 2 + unit // 30
        box = (width / 2 - half, top - unit // 30, width / 2 + half, top + line_height * len(lines) + unit // 30)
        draw_panel.rounded_rectangle(box, radius=unit // 30, fill=(0, 0, 0, 110))
        for i, line in enumerate(lines):
            draw_text.text((width // 2, top + i * line_height + line_height // 2), line, font=font, fill=white, anchor="mm")

    panels.alpha_composite(text)
    bbox = panels.getbbox()
    assert bbox is not None  # the label is always drawn
    return panels.crop(bbox), (bbox[0], bbox[1])


def _wrap(text: str, font: ImageFont.FreeTypeFont, *, max_width: int, max_lines: int) -> list[str]:
    """Greedy word wrap by rendered width; text that does not fit ends in an ellipsis."""

    def fits(s: str) -> bool:
        return font.getlength(s) <= max_width

    lines: list[str] = []
    # Lazy pieces and an early exit keep a 100 kB prompt as cheap as a short one.
    for piece in (piece for word in text.split() for piece in _split_to_fit(word, fits)):
        if lines and fits(f"{lines[-1]} {piece}"):
            lines[-1] = f"{lines[-1]} {piece}"
        elif len(lines) < max_lines:
            lines.append(piece)
        else:
            last = lines[-1]
            while last and not fits(last + "…"):
                last = last[:-1]
            lines[-1] = last.rstrip() + "…"
            break
    return lines


def _split_to_fit(word: str, fits: Callable[[str], bool]) -> Iterator[str]:
    """Yield a word whole, or in line-wide pieces if it is too wide for a line (a URL, say)."""
    while word:
        # Grow a prefix rather than measuring the whole word: a huge word
        # would make every measurement slow.
        cut = 1
        while cut < len(word) and fits(word[: cut + 1]):
            cut += 1
        yield word[:cut]
        word = word[cut:]


def _displayable(text: str) -> str:
    """Fold characters the built-in font lacks (accents, dashes) to ones it has."""
    text = text.translate(_FALLBACKS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _draw_glow(out: Path) -> None:
    # radial_gradient is 0 at the centre, 255 at the rim: invert it and square
    # the falloff for a soft light rather than a hard-edged disc.
    falloff = Image.radial_gradient("L").resize((_GLOW_SIZE, _GLOW_SIZE))
    alpha = falloff.point(lambda v: round(150 * max(0.0, 1 - v / 180) ** 2))
    glow = Image.new("RGBA", (_GLOW_SIZE, _GLOW_SIZE), (255, 255, 255, 0))
    glow.putalpha(alpha)
    glow.save(out, compress_level=1)


def _font(size: int) -> ImageFont.FreeTypeFont:
    # The font bundled with Pillow: no dependence on what the system has installed.
    # Loaded per call rather than cached, which costs little beside a render: a
    # FreeType face is not safe to share between the server's render threads.
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont)
    return font
