"""The picture or video a request starts from, made into a local file the renderer can read.

An image-to-video clip starts from its image, a video-to-video clip from its
video. The simulator can read three kinds of input: a data URL (what the app
sends for an upload), a link to one of its own videos (what the app sends for
"use a finished generation"), and any other link on loopback. Anything else
(a public link; this machine has no internet) leaves the clip on its fallback
background, as a real model could not be shown offline either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import catalog
from ..api import is_loopback_host

log = logging.getLogger(__name__)

MAX_INPUT_BYTES = 64 * 1024 * 1024
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,(?P<data>.*)$", re.S)
_OWN_VIDEO = re.compile(r"^/videos/([0-9a-f]{20})\.mp4$")
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4"}


@dataclass(frozen=True)
class Source:
    kind: str  # "image" | "video"
    value: str  # as the request gave it: a data URL or a link

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.value.encode()).hexdigest()


def source_of(model: catalog.Model, body: dict[str, Any]) -> Source | None:
    """The input a clip of this model starts from: its video for video to video, else its first image."""
    order = ("video", "image") if model.kind == "video-to-video" else ("image", "video")
    for kind in order:
        for param in model.params:
            if param.media != kind:
                continue
            value = body.get(param.name)
            if isinstance(value, list):
                value = next((v for v in value if isinstance(v, str) and v), None)
            if isinstance(value, str) and value:
                return Source(kind, value)
    return None


def shorten(body: dict[str, Any]) -> dict[str, Any]:
    """The body with each data URL cut to its type and length, for the simulator's own saved state."""

    def short(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("data:") and len(value) > 200:
            return f"{value[: value.find(',') + 1]}…({len(value):,} characters)"
        if isinstance(value, list):
            return [short(v) for v in value]
        return value

    return {name: short(value) for name, value in body.items()}


def fetch(source: Source, *, inputs_dir: Path, videos_dir: Path) -> Path | None:
    """A local file holding the source, or None when it cannot be read here (logged, never raised)."""
    try:
        return _fetch(source, Path(inputs_dir), Path(videos_dir))
    except (OSError, ValueError, binascii.Error) as exc:
        log.info("input %s… not readable: %s", source.value[:60], exc)
        return None


def _fetch(source: Source, inputs_dir: Path, videos_dir: Path) -> Path | None:
    if match := _DATA_URL.match(source.value):
        data = base64.b64decode(match["data"], validate=False)
        return _keep(data, _EXTENSIONS.get(match["mime"] or "", "bin"), inputs_dir)
    parts = urlsplit(source.value)
    if parts.scheme not in ("http", "https") or not is_loopback_host(parts.hostname):
        return None
    if own := _OWN_VIDEO.match(parts.path):
        path = videos_dir / f"{own[1]}.mp4"
        if path.is_file():
            return path
    with urllib.request.urlopen(source.value, timeout=10) as answer:  # noqa: S310 (loopback only, checked above)
        data = answer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise ValueError("input larger than the simulator reads")
        kind = answer.headers.get_content_type()
    return _keep(data, _EXTENSIONS.get(kind, "mp4" if source.kind == "video" else "bin"), inputs_dir)


def _keep(data: bytes, ext: str, inputs_dir: Path) -> Path:
    inputs_dir.mkdir(parents=True, exist_ok=True)
    path = inputs_dir / f"{hashlib.sha256(data).hexdigest()}.{ext}"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path
