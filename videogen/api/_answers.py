"""The Generation record: what the API says about one generation, read leniently.

The vendor's docs disagree with themselves about field and status spellings
(see docs/api-contract in the README). Everything that reads a response body
goes through `Answer.from_body`, so those variations are handled once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# $1 buys 2,000,000 credits (vendor's pricing note); used for bodies that report usd_spent.
CREDITS_PER_USD = 2_000_000


class Status(StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"
    # Local states: the server no longer knows the id, or never told us it existed.
    LOST = "lost"

    @property
    def is_pending(self) -> bool:
        return self in (Status.QUEUED, Status.GENERATING)

    @property
    def is_final(self) -> bool:
        return not self.is_pending

    @classmethod
    def from_api(cls, raw: Any) -> Status:
        """Map any status spelling the vendor has used; an unknown one means still running.

        The literal status "unknown" alongside an error is a failure; `Answer.from_body` sees both.
        """
        text = str(raw or "").strip().lower()
        if text in COMPLETED_SPELLINGS:
            return cls.COMPLETED
        if text in FAILED_SPELLINGS:
            return cls.FAILED
        if text in QUEUED_SPELLINGS:
            return cls.QUEUED
        return cls.GENERATING


# Every spelling the vendor has used for each status (lower case). The snippets' poll loops stop on the
# final ones, so a script run elsewhere ends where the app's own poller does.
COMPLETED_SPELLINGS = ("completed", "complete", "succeeded", "success")
FAILED_SPELLINGS = ("error", "failed", "failure")
QUEUED_SPELLINGS = ("queued", "waiting", "pending")
FINAL_SPELLINGS = COMPLETED_SPELLINGS + FAILED_SPELLINGS


@dataclass(frozen=True)
class Answer:
    """One answer from the create or fetch endpoint."""

    id: str
    status: Status
    remote_status: str = ""
    video_url: str | None = None
    error: str | None = None
    credits_used: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Mapping[str, Any], *, fallback_id: str | None = None, headers: Mapping[str, str] | None = None) -> Answer:
        """Build a record from a response body; raise ValueError when no id can be found.

        A create may answer with only `{"generation_id": ...}`: that is a queued generation. Its cost comes
        in `meta.usage` or, failing that, in the `x-aimlapi-credits-used` / `x-aimlapi-usd-spent` headers.
        """
        gen_id = body.get("id") or body.get("generation_id") or fallback_id
        if not isinstance(gen_id, str) or not gen_id:
            raise ValueError("the response has no generation id")
        remote = body.get("status")
        status = Status.from_api(remote) if remote is not None else Status.QUEUED
        if str(remote or "").strip().lower() == "unknown" and error_text(body.get("error")):
            # The API answers a request it cannot serve (an empty or bad id) with 200, "unknown" and its reason:
            # nothing will ever run, so it is a failure with that reason, not a generation still pending.
            status = Status.FAILED
        return cls(
            id=gen_id,
            status=status,
            remote_status=str(remote or ""),
            video_url=_video_url(body),
            error=error_text(body.get("error")) if status is Status.FAILED or body.get("error") else None,
            credits_used=_first(_credits(body.get("meta")), _header_credits(headers)),
            raw=dict(body),
        )


def _video_url(body: Mapping[str, Any]) -> str | None:
    video = body.get("video")
    if isinstance(video, Mapping):
        url = video.get("url")
    elif isinstance(video, list) and video and isinstance(video[0], Mapping):
        url = video[0].get("url")
    else:
        url = video if isinstance(video, str) else None
    return url if isinstance(url, str) and url else None


def _credits(meta: Any) -> float | None:
    """`meta.usage` in any of its spellings: credits_used (tokens_used until late 2025), or usd_spent alone."""
    usage = meta.get("usage") if isinstance(meta, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    return _amount(usage.get("credits_used"), usage.get("tokens_used"), usage.get("usd_spent"))


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


def _header_credits(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    return _amount(headers.get("x-aimlapi-credits-used"), None, headers.get("x-aimlapi-usd-spent"))


def _amount(credits: Any, tokens: Any, usd: Any) -> float | None:
    for value, scale in ((credits, 1), (tokens, 1), (usd, CREDITS_PER_USD)):
        number = _number(value)
        if number is not None:
            return number * scale
    return None


def _number(value: Any) -> float | None:
    """A non-negative finite amount, from a number or a header's text; anything else is no figure at all."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def error_text(error: Any) -> str | None:
    """Turn any error shape the vendor uses into one sentence a person can read.

    Shapes seen: a string; `{name, message}`; `{detail: [{loc, msg, type}]}`;
    `{message: [..]}` from validation pipes; nested `{error: {...}}`.
    """
    if error is None or error == "" or error == {}:
        return None
    if isinstance(error, str):
        return error.strip() or None
    if isinstance(error, list):
        parts = [error_text(item) for item in error]
        return "; ".join(p for p in parts if p) or None
    if isinstance(error, Mapping):
        if "detail" in error:
            return _detail_text(error["detail"])
        for key in ("message", "msg", "error", "description"):
            if error.get(key):
                text = error_text(error[key])
                name = error.get("name")
                if text and isinstance(name, str) and name and name.lower() not in text.lower():
                    return f"{name}: {text}"
                return text
        if isinstance(error.get("name"), str):
            return error["name"]
    return str(error)


def _detail_text(detail: Any) -> str | None:
    if not isinstance(detail, list):
        return error_text(detail)
    parts = []
    for item in detail:
        if isinstance(item, Mapping):
            loc = item.get("loc")
            where = ".".join(str(p) for p in loc if p != "body") if isinstance(loc, list) else ""
            msg = str(item.get("msg") or item.get("message") or "")
            parts.append(f"{where}: {msg}" if where else msg)
        else:
            parts.append(str(item))
    return "; ".join(p for p in parts if p) or None
