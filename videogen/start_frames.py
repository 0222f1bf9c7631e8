"""Start frames from image models: a picture a text-to-image model drew, kept as an upload for a video's image field.

    result = client.generate_image({"model": "flux/schnell", "prompt": "a fox at dawn", "image_size": "landscape_16_9"})
    frame = start_frames.keep(result, catalog.get("veo2/image-to-video").param("image_url"), data_dir, allow_local=demo)
    frame.reference   # "upload:<sha256>.png": goes in the video request's body, as an uploaded image's does
    frame.record()    # where it came from, for the history: image model, prompt, seed, cost

A picture comes as a link, or inline as base64 (`b64_json`, or a data URL in
`url`). A link comes from the server, so it is fetched as a finished video is
(`polling.download_image`): https only, every hop's addresses public, plain
http and loopback only with `allow_local` (the simulator, in demo mode), read
into memory under a cap and never with the key. Inline base64 is held to the
same cap before it is decoded. The bytes then become an upload like any other:
media.save_image checks their type by content, their size, their pixel count
(a small file can claim a huge canvas) and the field's published rules, and
keeps them by content, so the same picture is kept once.

A picture in a format the field does not take, or over its size limit, is
converted first (a PNG, else a JPEG at high quality, as frames.keep_frame
does), and only once its header has shown it is no decompression bomb.

`StartFrameError` when the picture cannot be had (the link refused, the
base64 broken, no such picture); media.MediaError when the field's rules
refuse it.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from . import media
from .api import CREDITS_PER_USD, GeneratedImage, ImageResult
from .catalog import Param
from .polling import IMAGE_LIMITS, DownloadError, DownloadLimits, download_image, looks_like_image

#: The field a start frame is checked against when the caller names none: any image, within the app's own limits.
ANY_IMAGE_FIELD = Param("image_url", {"type": "string", "x-media": "image"})

_DATA_URL = re.compile(r"^data:(?:image/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,(?P<data>.*)$", re.S | re.I)
_WHITESPACE = re.compile(rb"\s+")
# Published format names -> what the bytes are, as `_format_of` names them.
_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}

Source = Literal["link", "inline"]


class StartFrameError(Exception):
    """The picture could not be had. `reason` is one sentence for the person; `permanent` says whether trying
    the same answer again can help (a download that broke off can, a refused link cannot)."""

    def __init__(self, reason: str, *, permanent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class StartFrame:
    """A picture from an image model, kept as an upload, and what made it."""

    upload: media.Upload
    model: str
    prompt: str
    seed: int | None
    credits_used: float | None
    #: How the picture came: fetched from a link the answer gave, or inside the answer.
    source: Source
    #: The prompt the model says it drew from, where it rewrote the one it was given.
    revised_prompt: str | None = None

    @property
    def reference(self) -> str:
        """What a request body holds for it: `upload:<sha256>.<ext>`."""
        return self.upload.reference

    @property
    def cost_usd(self) -> float | None:
        return None if self.credits_used is None else self.credits_used / CREDITS_PER_USD

    def record(self) -> dict[str, Any]:
        """Where the start frame came from, ready for JSON: a history keeps this beside the upload's reference."""
        return {
            "kind": "image-model",
            "upload": self.reference,
            "image_model": self.model,
            "prompt": self.prompt,
            "revised_prompt": self.revised_prompt,
            "seed": self.seed,
            "credits_used": self.credits_used,
            "cost_usd": self.cost_usd,
        }


def keep(
    result: ImageResult,
    param: Param | None,
    data_dir: Path,
    *,
    index: int = 0,
    allow_local: bool = False,
    limits: DownloadLimits = IMAGE_LIMITS,
    resolve: Callable[..., list] | None = None,
    ca_certs: str | None = None,
) -> StartFrame:
    """Picture `index` of `result`, kept as an upload for `param` (a video model's image field; None: any image).

    `allow_local` lets a link use plain http to this machine (demo mode). `limits` caps the download (its
    `max_bytes` caps inline base64 too); `resolve` and `ca_certs` are the download's, for tests.
    """
    if not 0 <= index < len(result.images):
        raise StartFrameError(f"The answer holds {len(result.images)} picture(s); there is no picture {index + 1}.")
    image = result.images[index]
    data, source = picture_bytes(image, allow_local=allow_local, limits=limits, resolve=resolve, ca_certs=ca_certs)
    field = param or ANY_IMAGE_FIELD
    upload = media.save_image(_fitted(data, field), field, data_dir)
    return StartFrame(
        upload=upload,
        model=result.model,
        prompt=result.prompt,
        seed=result.seed,
        credits_used=result.credits_used,
        source=source,
        revised_prompt=image.revised_prompt,
    )


def picture_bytes(
    image: GeneratedImage,
    *,
    allow_local: bool = False,
    limits: DownloadLimits = IMAGE_LIMITS,
    resolve: Callable[..., list] | None = None,
    ca_certs: str | None = None,
) -> tuple[bytes, Source]:
    """The picture's bytes and how they came; StartFrameError when they cannot be had."""
    if image.b64_json:
        return _decoded(image.b64_json, limits.max_bytes), "inline"
    url = (image.url or "").strip()
    if match := _DATA_URL.match(url):
        return _decoded(match["data"], limits.max_bytes), "inline"
    if url.lower().startswith("data:"):
        raise StartFrameError("The picture came as a data URL that is not base64: refused.")
    if not url:
        raise StartFrameError("The answer gave neither a link nor the picture itself.")
    try:
        return download_image(url, allow_local=allow_local, limits=limits, resolve=resolve, ca_certs=ca_certs), "link"
    except DownloadError as exc:
        raise StartFrameError(str(exc), permanent=exc.permanent) from None


def _decoded(text: str, max_bytes: int) -> bytes:
    packed = _WHITESPACE.sub(b"", text.encode("ascii", "replace"))
    # Four characters carry three bytes: past this length the picture is over the cap, so it is not decoded.
    if len(packed) > (max_bytes + 2) // 3 * 4:
        raise StartFrameError(f"The picture is larger than {max_bytes // 2**20} MB.")
    try:
        data = base64.b64decode(packed, validate=True)
    except (binascii.Error, ValueError):
        raise StartFrameError("The picture's base64 could not be read.") from None
    if not looks_like_image(data[:16]):
        raise StartFrameError("The answer's base64 is not a picture.")
    return data


def _format_of(data: bytes) -> str | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _fitted(data: bytes, param: Param) -> bytes:
    """The picture in a format `param` takes and within its size limit; as it came when it already is.

    Anything that cannot be converted safely (not one of the three formats, a header that claims more pixels
    than the app takes, a file Pillow cannot read) is returned as it came, for media.save_image to refuse in its
    own words.
    """
    kind = _format_of(data)
    allowed = {_FORMATS[f.lower()] for f in param.formats if f.lower() in _FORMATS}
    limit = media.max_bytes(param)
    if kind is None or ((not allowed or kind in allowed) and len(data) <= limit):
        return data
    size = media.header_size(data)
    if size is None or size[0] * size[1] > media.MAX_PIXELS:
        return data
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP")) as picture:
            picture.load()
            converted = _converted(picture, allowed, limit)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return data
    return converted if converted is not None else data


def _converted(picture: Image.Image, allowed: set[str], limit: int) -> bytes | None:
    """The first encoding `allowed` takes that fits `limit`: PNG, then JPEG at falling quality, then WebP."""
    attempts: list[tuple[str, dict]] = []
    if not allowed or "png" in allowed:
        attempts.append(("PNG", {"optimize": True}))
    if not allowed or "jpg" in allowed:
        attempts += [("JPEG", {"quality": quality, "optimize": True}) for quality in (95, 90, 85, 75)]
    if "webp" in allowed:
        attempts += [("WEBP", {"quality": quality}) for quality in (90, 75)]
    last = None
    for name, options in attempts:
        out = io.BytesIO()
        (picture if name == "PNG" else picture.convert("RGB")).save(out, name, **options)
        last = out.getvalue()
        if len(last) <= limit:
            return last
    return last
