"""A gallery tile's images: the video's poster and a smaller filmstrip to scrub, as data URLs.

    images = tile_images(video)   # video: the app's own file, or None
    images.poster, images.strip   # data: URLs; the strip is None when there is nothing to scrub
    images.reason                 # why the poster is a plain placeholder, else None

A page of gallery tiles travels to the browser inside the page's own message, so
every byte counts 48 times: the posters and strips made beside each video
(`videogen.posters`) are sized for a card and for scrubbing at full width, and a
tile is a quarter of that. Each is scaled down and re-encoded once per file
version (path, size and modification time) and kept in memory; a damaged image
on disk gives the placeholder and a reason, never an exception.
"""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .posters import STRIP_FRAMES, placeholder_jpeg, poster_files

#: A tile's poster: its long side, and at most this many bytes (tiles show it at 300 CSS pixels at most).
POSTER_SIDE = 360
POSTER_MAX_BYTES = 18 * 1024
#: Each filmstrip frame's height while scrubbing: enough to follow the motion, not to study a frame.
STRIP_HEIGHT = 72
STRIP_MAX_BYTES = 12 * 1024
#: Tile images kept in memory: a few pages of tiles, about 30 KB each.
CACHED = 512
_QUALITIES = (80, 70, 60, 50, 40)
_POSTER_READ_MAX = 64 * 1024  # well over what posters.py makes: a bigger file is not one of its posters
_SMALLEST = 24

NOT_SAVED = "No video saved on this server yet."
NOT_MADE = "The poster is still being made."
UNREADABLE = "The poster on disk could not be read."


@dataclass(frozen=True)
class TileImages:
    poster: str  # a data: URL, the placeholder when there is no poster
    strip: str | None  # a data: URL of STRIP_FRAMES frames in one row, or None
    reason: str | None  # why the poster is the placeholder; None when it is the video's own

    @property
    def size(self) -> int:
        """Characters sent to the browser for this tile's images."""
        return len(self.poster) + len(self.strip or "")


def tile_images(video: Path | None, *, portrait: bool = False) -> TileImages:
    """The poster and strip for `video` (a file `media.own_file` found in the store's videos dir, or None)."""
    if video is None:
        return placeholder(NOT_SAVED, portrait=portrait)
    files = poster_files(video)
    if not files.ready:
        return placeholder(files.reason or NOT_MADE, portrait=portrait)
    try:
        poster, strip = files.poster.stat(), files.strip.stat()
    except OSError:  # deleted between the two looks
        return placeholder(NOT_MADE, portrait=portrait)
    return _scaled(str(files.poster), poster.st_mtime_ns, poster.st_size, str(files.strip), strip.st_mtime_ns, strip.st_size, portrait)


def poster_url(video: Path | None) -> str | None:
    """The full poster of `video` as a data URL, for the player's `poster` attribute; None until it is made."""
    if video is None:
        return None
    files = poster_files(video)
    try:
        stat = files.poster.stat() if files.ready else None
    except OSError:
        return None
    return None if stat is None else _poster_url(str(files.poster), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=CACHED)
def _poster_url(poster: str, _mtime: int, _size: int) -> str | None:
    # Sent as made (at most posters.POSTER_MAX_BYTES): a player shows it at full card width. A file that is
    # not a JPEG (damaged on disk) is left out rather than handed to the browser.
    try:
        with open(poster, "rb") as f:
            data = f.read(_POSTER_READ_MAX + 1)
    except OSError:
        return None
    if len(data) > _POSTER_READ_MAX or not data.startswith(b"\xff\xd8\xff"):
        return None
    return _data_url(data)


def placeholder(reason: str, *, portrait: bool = False) -> TileImages:
    return TileImages(_placeholder_url(portrait), None, reason)


@functools.cache
def _placeholder_url(portrait: bool) -> str:
    return _data_url(placeholder_jpeg(90, 160) if portrait else placeholder_jpeg(160, 90))


@functools.lru_cache(maxsize=CACHED)
def _scaled(poster: str, _p_mtime: int, _p_size: int, strip: str, _s_mtime: int, _s_size: int, portrait: bool) -> TileImages:
    # The modification times and sizes are only part of the cache key: a replaced image is read again.
    try:
        with Image.open(poster) as image:
            small_poster = _within(_shrunk(image.convert("RGB"), POSTER_SIDE / max(image.size)), POSTER_MAX_BYTES)
        with Image.open(strip) as image:
            small_strip = _within(
                _shrunk(image.convert("RGB"), STRIP_HEIGHT / image.height, frames=STRIP_FRAMES), STRIP_MAX_BYTES, frames=STRIP_FRAMES
            )
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return placeholder(UNREADABLE, portrait=portrait)
    return TileImages(_data_url(small_poster), _data_url(small_strip), None)


def _shrunk(image: Image.Image, scale: float, *, frames: int = 1) -> Image.Image:
    """`image` scaled down by `scale` (never up); a strip of `frames` keeps frames of one whole width each."""
    if scale >= 1:
        return image
    frame = max(1, round(image.width / frames * scale))
    return image.resize((frame * frames, max(1, round(image.height * scale))), Image.Resampling.LANCZOS)


def _within(image: Image.Image, budget: int, *, frames: int = 1) -> bytes:
    """The best quality under `budget` bytes, smaller still when none is: a tile is never left out for its size."""
    while True:
        for quality in _QUALITIES:
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= budget:
                return out.getvalue()
        if image.height <= _SMALLEST:  # a frame this small is under any sensible budget already
            return out.getvalue()
        image = _shrunk(image, 0.75, frames=frames)


def _data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
