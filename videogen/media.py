"""Media inputs: uploaded images checked and kept in the data dir, links checked, bodies rebuilt for sending.

An upload is checked (type by its bytes, size, the dimension rules the vendor
publishes) before anything is encoded, then kept as `uploads/<sha256>.<ext>`
in the data dir. The request body that the store records refers to it as
`upload:<sha256>.<ext>`, never as base64: `expand()` swaps each reference for
the `data:<mime>;base64,...` URL at the moment of sending, so the exact body
sent can always be rebuilt from the record and the file (Re-run, exports).
"""

from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from .catalog import Param

#: Where the vendor publishes no size limit.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
REFERENCE_PREFIX = "upload:"
UPLOADS_DIR = "uploads"

# Pillow's format name -> (extension, MIME type). The API takes these three.
IMAGE_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
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
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
            image.verify()  # a truncated or corrupt file fails here, not at the API
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
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


def _check_dimensions(param: Param, width: int, height: int) -> None:
    if param.min_side and min(width, height) < param.min_side:
        raise MediaError(
            f"The image is {width}×{height}; this model needs at least {param.min_side} pixels on the shorter side."
        )
    if param.aspect_range:
        low, high = param.aspect_range
        ratio = width / height
        if not low <= ratio <= high:
            raise MediaError(
                f"The image is {width}×{height} (ratio {ratio:.2f}); this model takes ratios from {low:g} to {high:g}."
            )


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


def check_link(value: str, kind: str) -> str:
    """A media link the API can fetch: https only, with a host. Returns it trimmed."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme == "http":
        raise MediaError(f"Use an https:// link for the {kind}: the API fetches it over the internet and refuses plain http.")
    if parts.scheme != "https" or not parts.hostname:
        raise MediaError(f"Give a public https:// link to the {kind} (for example https://example.com/clip.mp4).")
    return text


def is_loopback_link(value: str) -> bool:
    """A link on this machine (the demo simulator's videos): usable in demo mode only."""
    host = urlsplit(value).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
