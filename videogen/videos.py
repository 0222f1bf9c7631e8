"""Finished videos: which links may be used, where copies go, and how they are fetched.

The API's video links are CDN addresses that expire, so every finished video is
copied into the data directory. The download never carries the API key (the
CDN is a different host), is streamed with a size cap, and must really be a
video: an HTML error page with a 200 status is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .client import is_loopback_host

MAX_VIDEO_BYTES = 500 * 1024 * 1024
CHUNK_BYTES = 256 * 1024
# What a CDN may call an MP4 or WebM; octet-stream is common for signed links.
ACCEPTED_TYPES = ("video/", "application/octet-stream", "binary/octet-stream", "application/mp4")


class DownloadError(Exception):
    """The video could not be copied. `permanent` means trying again will not help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def is_allowed_video_url(url: str | None) -> bool:
    """https anywhere; plain http only on this machine (the simulator)."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


def video_filename(generation_id: str) -> str:
    """A file name that is safe on every OS and unique per id.

    Ids contain ':' and could contain anything a server sends, '../' included:
    keep a readable, sanitised prefix and make it unique with a hash.
    """
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", generation_id).strip("_")[:48] or "video"
    digest = hashlib.sha256(generation_id.encode()).hexdigest()[:12]
    return f"{readable}-{digest}.mp4"


def looks_like_video(head: bytes) -> bool:
    """MP4/MOV have an 'ftyp' box at byte 4; WebM/Matroska start with the EBML magic."""
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


def download_video(
    url: str,
    videos_dir: Path,
    generation_id: str,
    *,
    session: requests.Session | None = None,
    max_bytes: int = MAX_VIDEO_BYTES,
    timeout: tuple[float, float] = (5.0, 30.0),
) -> Path:
    """Copy the video at `url` into `videos_dir` and return its path."""
    if not is_allowed_video_url(url):
        raise DownloadError("The video link is not https, so it was not fetched.", permanent=True)
    target = (videos_dir / video_filename(generation_id)).resolve()
    if target.parent != videos_dir.resolve():
        raise DownloadError("Refusing to write outside the videos folder.", permanent=True)

    http = session or requests
    try:
        response = http.get(url, stream=True, timeout=timeout, allow_redirects=True)
    except requests.RequestException as exc:
        raise DownloadError(f"The video could not be reached ({type(exc).__name__}).", permanent=False) from None
    with response:
        if response.status_code in (404, 410):
            raise DownloadError(f"The video link answered {response.status_code}: the file is gone.", permanent=True)
        if response.status_code >= 400:
            transient = response.status_code >= 500 or response.status_code == 429
            raise DownloadError(f"The video link answered {response.status_code}.", permanent=not transient)
        if not is_allowed_video_url(response.url):
            raise DownloadError("The video link redirected to an address that is not https.", permanent=True)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not content_type.startswith(ACCEPTED_TYPES):
            raise DownloadError(f"The video link served {content_type or 'an unknown type'}, not a video.", permanent=True)
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise DownloadError(f"The video is larger than {max_bytes // 2**20} MB.", permanent=True)
        return _save(response, target, max_bytes)


def _save(response: requests.Response, target: Path, max_bytes: int) -> Path:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".partial-", suffix=".mp4")
    tmp = Path(tmp_name)
    try:
        written = 0
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_content(CHUNK_BYTES):
                if written == 0 and not looks_like_video(chunk[:12]):
                    raise DownloadError("The video link did not serve a video file.", permanent=True)
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadError(f"The video is larger than {max_bytes // 2**20} MB.", permanent=True)
                out.write(chunk)
        if written == 0:
            raise DownloadError("The video link served an empty file.", permanent=True)
        os.replace(tmp, target)
        return target
    except requests.RequestException as exc:
        raise DownloadError(f"The download broke off ({type(exc).__name__}).", permanent=False) from None
    finally:
        tmp.unlink(missing_ok=True)
