"""What an image model answers (`POST /v1/images/generations`), read leniently: the pictures, the seed, the cost.

The vendor's schema gives `{"data": [{"url": ..., "b64_json": ...}], "meta": {"usage": {...}}}`, each item a
link or the picture as base64; the cost is spelled as on a video create (`Answer`). Some models also say which
seed they drew with (`seed`), the prompt they actually drew (`revised_prompt`), or that their safety checker
blanked a picture (`has_nsfw_concepts`, one flag per picture). A picture so flagged is dropped: it came back
blank, and a blank start frame is no start frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._answers import CREDITS_PER_USD, _credits, _first, _header_credits, error_text

#: Why an answer without pictures came, when every picture it had was flagged and blanked.
FLAGGED_REASON = "The model's safety checker flagged the picture, so it came back blank."


@dataclass(frozen=True)
class GeneratedImage:
    """One picture of an answer: a link to fetch it from, or its bytes as base64 (`b64_json`), or both."""

    url: str | None = None
    b64_json: str | None = field(default=None, repr=False)
    #: The MIME type the answer gives, where it gives one.
    content_type: str | None = None
    #: The prompt the model drew from, where it rewrote the one it was given.
    revised_prompt: str | None = None


@dataclass(frozen=True)
class ImageResult:
    """One answer of the images endpoint, with what was asked (`model`, `prompt`)."""

    model: str
    prompt: str
    images: tuple[GeneratedImage, ...]
    #: The seed the pictures were drawn with: the answer's, else the request's; None when neither says.
    seed: int | None = None
    credits_used: float | None = None
    #: Why no picture came, in the server's words, when none did.
    refusal: str | None = None
    #: The answer's `meta` object as it came (`usage` and anything else it holds).
    meta: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def usd_spent(self) -> float | None:
        return None if self.credits_used is None else self.credits_used / CREDITS_PER_USD

    @classmethod
    def from_body(cls, body: Mapping[str, Any], *, request: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> ImageResult:
        """Read an answer to `request` (the body as sent). An answer without usable pictures has `refusal` set
        when it says why (an error, every picture flagged); it is for the caller to treat it as the failure it is."""
        items = body.get("data")
        if not isinstance(items, list):
            items = body.get("images")  # the shape of the models' own hosts, which some answers pass on
        flags = body.get("has_nsfw_concepts")
        flags = flags if isinstance(flags, list) else []
        images, flagged = [], 0
        for index, item in enumerate(items if isinstance(items, list) else []):
            image = _image(item)
            if image is None:
                continue
            if index < len(flags) and flags[index] is True:
                flagged += 1
                continue
            images.append(image)
        refusal = None
        if not images:
            refusal = error_text(body.get("error")) or error_text(body.get("message")) or (FLAGGED_REASON if flagged else None)
        meta = body.get("meta")
        return cls(
            model=str(request.get("model", "")),
            prompt=str(request.get("prompt", "")),
            images=tuple(images),
            seed=_seed(body.get("seed"), request.get("seed")),
            credits_used=_first(_credits(meta), _header_credits(headers)),
            refusal=refusal,
            meta=dict(meta) if isinstance(meta, Mapping) else {},
        )


def _image(item: Any) -> GeneratedImage | None:
    if isinstance(item, str) and item:
        return GeneratedImage(url=item)
    if not isinstance(item, Mapping):
        return None
    url, b64 = item.get("url"), item.get("b64_json")
    url = url if isinstance(url, str) and url.strip() else None
    b64 = b64 if isinstance(b64, str) and b64.strip() else None
    if url is None and b64 is None:
        return None
    kind, revised = item.get("content_type"), item.get("revised_prompt")
    return GeneratedImage(
        url=url,
        b64_json=b64,
        content_type=kind if isinstance(kind, str) and kind else None,
        revised_prompt=revised if isinstance(revised, str) and revised else None,
    )


def _seed(*values: Any) -> int | None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
