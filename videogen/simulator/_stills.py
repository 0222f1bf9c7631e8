"""What an image model's request asks the simulator to draw (size, format, how many, how sent), and the stills drawn.

The models name a size in one of four ways, and a request is read by whichever
field it holds: a preset (`image_size` "landscape_16_9"), a class ("1.5K",
"2K", "4K", square), pixels (`size` "1536x1024"), or an aspect ratio with an
optional resolution ("16:9" at "2K": 2048 on the long side). A request with
none of them gets 1024 square. A still depends only on what is drawn, so equal
requests of any model share one file; the files live in the simulator's state
folder and are served from `/images/<key>.<ext>`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from .render import STILL_FORMATS, render_still

#: The presets' pixels, as the models that take them document them.
PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
#: The long side of each size class ("2K"), in any case.
LONG_SIDES = {"1k": 1024, "1.5k": 1536, "2k": 2048, "4k": 4096}
DEFAULT_SIZE = (1024, 1024)
# The sides a still is drawn at, whatever a request asks: the models' own range.
SIDE_RANGE = (64, 4096)
#: The most pictures one answer holds (the most any model's schema allows).
MAX_PICTURES = 10
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
_PIXELS = re.compile(r"^\s*(\d{2,5})\s*[x×*]\s*(\d{2,5})\s*$", re.I)
_RATIO = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")

#: How an answer carries each picture: a link to the simulator, the bytes as base64, or a data URL in `url`.
Delivery = Literal["url", "b64_json", "data_url"]


def still_size(body: Mapping[str, Any]) -> tuple[int, int]:
    """(width, height) of the picture a validated request asks for."""
    size = body.get("image_size")
    if isinstance(size, Mapping):
        width, height = size.get("width"), size.get("height")
        if _is_number(width) and _is_number(height):
            return _clamped(round(width), round(height))
    if isinstance(size, str):
        if size in PRESETS:
            return PRESETS[size]
        if size.lower() in LONG_SIDES:
            side = LONG_SIDES[size.lower()]
            return _clamped(side, side)
    if isinstance(body.get("size"), str) and (pixels := _PIXELS.match(body["size"])):
        return _clamped(int(pixels[1]), int(pixels[2]))
    resolution = body.get("resolution")
    long = LONG_SIDES.get(resolution.lower(), DEFAULT_SIZE[0]) if isinstance(resolution, str) else DEFAULT_SIZE[0]
    ratio = _RATIO.match(str(body.get("aspect_ratio") or ""))
    if ratio and float(ratio[1]) > 0 and float(ratio[2]) > 0:
        across, up = float(ratio[1]), float(ratio[2])
        return _clamped(long, round(long * up / across)) if across >= up else _clamped(round(long * across / up), long)
    return _clamped(long, long) if isinstance(resolution, str) else DEFAULT_SIZE


def still_format(body: Mapping[str, Any]) -> str:
    """The format asked for (`output_format`), as a key of render.STILL_FORMATS; PNG where none or another is."""
    asked = str(body.get("output_format") or "").lower()
    return "jpeg" if asked in ("jpeg", "jpg") else asked if asked in STILL_FORMATS else "png"


def picture_count(body: Mapping[str, Any]) -> int:
    """How many pictures were asked for (`num_images`, or OpenAI's `n`)."""
    for name in ("num_images", "n"):
        if _is_number(body.get(name)):
            return min(max(int(body[name]), 1), MAX_PICTURES)
    return 1


def delivery(body: Mapping[str, Any]) -> Delivery:
    """Base64 when asked (`response_format` "b64_json", or `convert_base64_to_url` off); a data URL in `url`
    for `sync_mode`, which waits for the picture instead of hosting it; else a link."""
    if body.get("response_format") == "b64_json" or body.get("convert_base64_to_url") is False:
        return "b64_json"
    return "data_url" if body.get("sync_mode") is True else "url"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value and abs(value) != float("inf")


def _clamped(width: int, height: int) -> tuple[int, int]:
    low, high = SIDE_RANGE
    return min(max(width, low), high), min(max(height, low), high)


class Stills:
    """The stills drawn, by key, in one folder. Thread-safe: a still is drawn once, whoever asks first."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def draw(self, *, prompt: str, seed: int | None, size: tuple[int, int], image_format: str, index: int = 0) -> Path:
        """The file of this still, drawn now unless it was before."""
        width, height = size
        drawn = [prompt, seed, width, height, image_format, index]
        key = hashlib.sha256(json.dumps(drawn).encode()).hexdigest()[:20]
        path = self.folder / f"{key}.{EXTENSIONS[image_format]}"
        with self._lock:
            if path.exists():
                return path
            label = f"SIMULATED · {width}×{height}" + (f" · seed {seed}" if seed is not None else "")
            data = render_still(prompt=prompt, seed=seed, width=width, height=height, image_format=image_format, label=label, index=index)
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return path

    def find(self, name: str) -> Path | None:
        """The file named `name` ("<key>.png"), or None when no still has that name."""
        if not re.fullmatch(r"[0-9a-f]{20}\.(?:png|jpg|webp)", name):
            return None
        path = self.folder / name
        return path if path.is_file() else None
