"""Media inputs: uploaded images checked and kept in the data dir, links checked, bodies rebuilt for sending.

An upload is checked (type by its bytes, size, the dimension rules the vendor
publishes) before anything is encoded, then kept as `uploads/<sha256>.<ext>`
in the data dir. The request body that the store records refers to it as
`upload:<sha256>.<ext>`, never as base64: `expand()` swaps each reference for
the `data:<mime>;base64,...` URL at the moment of sending, so the exact body
sent can always be rebuilt from the record and the file (Re-run, exports).

Streamlit's `st.image` and `st.video` read a local file whenever their text
names one, and only otherwise hand the text to the browser. So the page gets
either a link that passed `browser_link`, or a file that `own_file` found inside
the app's own folders; never text as a person or a server gave it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from .catalog import Param

#: Where the vendor publishes no size limit.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: The most pixels an image may decode to: a small file can claim a huge canvas (a decompression bomb),
#: and the vendors' own limits are far below this (a 4K frame is 8.3 megapixels).
MAX_PIXELS = 40_000_000
REFERENCE_PREFIX = "upload:"
UPLOADS_DIR = "uploads"

# Pillow's format name -> (extension, MIME type). The API takes these three.
IMAGE_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
# A common image the API does not take, named by its first bytes rather than opened.
_OTHER_IMAGES = {b"GIF87a": "GIF", b"GIF89a": "GIF"}
_REFERENCE = re.compile(r"^upload:([0-9a-f]{64})\.(png|jpg|webp)$")
_MIME_BY_EXT = {ext: mime for ext, mime in IMAGE_FORMATS.values()}
# Published format names -> the extensions they mean.
_FORMAT_ALIASES = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp"}


class MediaError(ValueError):
    """A file or link that cannot be used, with a message for the person who gave it."""


@dataclass(frozen=True)
class Upload:
    reference: str  # what the recorded body holds
    path: Path
    width: int
    height: int
    size: int
    mime: str


def max_bytes(param: Param) -> int:
    return param.max_bytes or DEFAULT_MAX_BYTES


def save_image(data: bytes, param: Param, data_dir: Path) -> Upload:
    """Check an uploaded image against `param`'s rules and keep it; raise MediaError with a readable reason."""
    limit = max_bytes(param)
    if len(data) > limit:
        raise MediaError(f"The file is {_mb(len(data))}; the limit for {param.label.lower()} is {_mb(limit)}.")
    for magic, name in _OTHER_IMAGES.items():
        if data.startswith(magic):
            raise MediaError(f"That file is a {name} image; upload a PNG, JPEG or WebP.")
    # Read from the header before Pillow opens it: Pillow warns from 89 megapixels and refuses from 179,
    # neither of which should reach the page, and decoding is what a bomb is made to exhaust. Pillow opens
    # only the formats whose header is read here, so no other one gets as far as its own check.
    if (size := header_size(data)) is not None:
        _check_pixels(*size)
    try:
        image = Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS))
    except Image.DecompressionBombError as exc:  # a header the reader above could not read
        raise MediaError(f"The image is larger than {MAX_PIXELS / 1e6:.0f} megapixels, the most this app takes.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaError("That file is not a PNG, JPEG or WebP image.") from exc
    with image:
        kind = image.format
        width, height = image.size
        _check_pixels(width, height)
        try:
            image.verify()  # a truncated or corrupt file fails here, not at the API
        except (OSError, SyntaxError, ValueError) as exc:
            raise MediaError("That file is not a PNG, JPEG or WebP image.") from exc
    if kind not in IMAGE_FORMATS:
        raise MediaError(f"That file is a {kind} image; upload a PNG, JPEG or WebP.")
    ext, mime = IMAGE_FORMATS[kind]
    allowed = {_FORMAT_ALIASES[f] for f in param.formats if f in _FORMAT_ALIASES}
    if allowed and ext not in allowed:
        names = ", ".join(sorted(f.upper() for f in allowed))
        raise MediaError(f"This model takes {names} for {param.label.lower()}, not {kind}.")
    _check_dimensions(param, width, height)

    digest = hashlib.sha256(data).hexdigest()
    folder = Path(data_dir) / UPLOADS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{ext}"
    if not path.exists():  # content-addressed: the same picture is kept once
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return Upload(f"{REFERENCE_PREFIX}{digest}.{ext}", path, width, height, len(data), mime)


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise MediaError(
            f"The image is {width:,}×{height:,} pixels ({width * height / 1e6:,.0f} megapixels); "
            f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
        )


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) as a PNG, JPEG or WebP header states it, without decoding; None for anything else."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data[:2] == b"\xff\xd8":
            return _jpeg_size(data)
    except struct.error:  # a header cut short: Pillow's verify() names the file broken
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


# Start-of-frame markers: every one but DHT (C4), JPG (C8) and DAC (CC) carries the frame's size.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if marker == 0xD9 or marker == 0xDA:  # end of image, or the scan: no frame header before it
            return None
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
    return None


def _check_dimensions(param: Param, width: int, height: int) -> None:
    if param.min_side and min(width, height) < param.min_side:
        raise MediaError(f"The image is {width}×{height}; this model needs at least {param.min_side} pixels on the shorter side.")
    if param.aspect_range:
        low, high = param.aspect_range
        ratio = width / height
        if not low <= ratio <= high:
            raise MediaError(f"The image is {width}×{height} (ratio {ratio:.2f}); this model takes ratios from {low:g} to {high:g}.")


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and bool(_REFERENCE.match(value))


def reference_path(reference: str, data_dir: Path) -> Path:
    match = _REFERENCE.match(reference)
    if not match:
        raise MediaError(f"{reference!r} is not an upload reference.")
    return Path(data_dir) / UPLOADS_DIR / f"{match[1]}.{match[2]}"


def mime_of(reference: str) -> str:
    """The MIME type of an upload reference's file ("image/png")."""
    return _MIME_BY_EXT[reference.rsplit(".", 1)[-1]]


def data_url(reference: str, data_dir: Path) -> str:
    path = reference_path(reference, data_dir)
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"The uploaded file behind {reference} is no longer in the data folder.") from exc
    return f"data:{mime_of(reference)};base64,{base64.b64encode(payload).decode('ascii')}"


def expand(body: Mapping[str, Any], data_dir: Path) -> dict[str, Any]:
    """The body as sent: every upload reference (also inside lists) replaced by its data URL."""

    def swap(value: Any) -> Any:
        if is_reference(value):
            return data_url(value, data_dir)
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return {name: swap(value) for name, value in body.items()}


def references(body: Mapping[str, Any]) -> list[str]:
    """Every upload reference in a recorded body."""
    found: list[str] = []
    for value in body.values():
        for item in value if isinstance(value, list) else [value]:
            if is_reference(item):
                found.append(item)
    return found


_EXAMPLE_LINKS = {"image": "https://example.com/photo.png", "audio": "https://example.com/voice.mp3"}


def check_link(value: str, kind: str) -> str:
    """A media link the API can fetch: https only, with a host. Returns it trimmed."""
    text = value.strip()
    example = _EXAMPLE_LINKS.get(kind, "https://example.com/clip.mp4")
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as exc:  # an unbalanced [ in the host, say
        raise MediaError(f"That is not a link. Give a public https:// link to the {kind} (for example {example}).") from exc
    if parts.scheme == "http":
        raise MediaError(f"Use an https:// link for the {kind}: the API fetches it over the internet and refuses plain http.")
    if parts.scheme == "file" or (not parts.scheme and text[:1] in ("/", ".", "~", "\\")) or len(parts.scheme) == 1:
        raise MediaError(
            f"That is a file path, not a link: files on this server are not read. "
            f"Give a public https:// link to the {kind} (for example {example})."
        )
    if parts.scheme != "https" or not host:
        raise MediaError(f"Give a public https:// link to the {kind} (for example {example}).")
    return text


def browser_link(value: str | None, kind: str) -> str | None:
    """`value` checked as a link for the browser to load itself (a thumbnail, a video still on the CDN); else None.

    A link that is also a path on this machine is refused as well: Streamlit would read that file instead.
    """
    if not isinstance(value, str):
        return None
    try:
        link = check_link(value, kind)
    except MediaError:
        return None
    return None if os.path.lexists(link) else link


def own_file(path: str | os.PathLike | None, folder: Path) -> Path | None:
    """`path` when it is a file inside `folder`, links resolved; else None.

    Paths in records come from a database other processes write too; only what the app keeps in its own
    folders is ever read and served.
    """
    if not path:
        return None
    try:
        resolved, root = Path(path).resolve(), Path(folder).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if resolved == root or not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return resolved


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
