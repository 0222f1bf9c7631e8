"""Fault knobs for the simulator: what a test can make the fake API do wrong."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

# "image" is POST /v1/images/generations; "still" a picture it hands out a link to, as "video" is a clip.
Endpoint = Literal["create", "fetch", "video", "models", "chat", "image", "still"]


@dataclass(frozen=True)
class Fault:
    """One misbehaviour, applied to one request.

    Build them with the class methods: `Fault.http(429, retry_after=2)`,
    `Fault.dropped()`, `Fault.slow(5)`, `Fault.malformed()`, `Fault.html()`,
    and the answers the real API has given (api-contract, "As the API answers in
    practice"): `Fault.gateway(524)`, `Fault.unknown_status()`, `Fault.out_of_credits()`.
    For "chat", `Fault.answer({...})` sends a body of the test's own, and `Fault.no_choices()` one with no choices.
    For "image", `Fault.answer({...})` too (a link to an inside address, a picture that is no picture), and
    `Fault.moderated(reason)` a safety refusal. For "still", what "video" takes: redirects, trickling, errors.
    """

    status: int | None = None
    retry_after: str | None = None
    drop: bool = False
    delay: float = 0.0
    bad_json: bool = False
    html_page: bool = False  # with a status: a Cloudflare error page; without, a 200 sign-in page
    unknown_answer: bool = False
    credits_body: bool = False
    # For create: whether the job is created before the fault strikes, the
    # worst case for a client (the server acted, the client can't tell).
    acted: bool = True
    # Video only: answer with a chain of redirects, or send the video at this many bytes per second.
    redirect_hops: int = 0
    redirect_to: str | None = None
    trickle: float | None = None
    huge: int = 0  # answer 200 with a JSON body of this many bytes
    answer_json: str | None = None  # answer 200 with this JSON text (kept as text: a fault is immutable)
    refusal: str | None = None  # answer 400 as a safety system refusing, with this reason

    @property
    def only_delays(self) -> bool:
        return (
            self.status is None
            and self.answer_json is None
            and self.refusal is None
            and not (self.drop or self.bad_json or self.html_page or self.redirect_hops or self.trickle or self.unknown_answer or self.huge)
        )

    @classmethod
    def answer(cls, body: Mapping[str, Any]) -> Fault:
        """Answer 200 with `body` instead of the real answer: for "chat", a completion of the test's making
        (a refusal, content in a markdown fence, content that is only whitespace)."""
        return cls(answer_json=json.dumps(body))

    @classmethod
    def no_choices(cls) -> Fault:
        """For "chat": a well-formed completion whose `choices` is empty, as a filtered answer can come."""
        return cls.answer(
            {
                "id": "chatcmpl-empty",
                "object": "chat.completion",
                "created": 0,
                "model": "",
                "choices": [],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        )

    @classmethod
    def moderated(cls, reason: str = "Your request was rejected by the safety system.") -> Fault:
        """For "image": answer 400 as a safety system refusing the prompt, with `reason`. The vendor's docs show
        no such answer, so it is OpenAI's images API's (`error.code` "moderation_blocked") in the vendor's error body."""
        return cls(refusal=reason)

    @classmethod
    def oversized(cls, size: int) -> Fault:
        """Answer 200 with a JSON object of `size` bytes: an answer no generation needs, to fill a client's memory.
        For "still": a picture that says it is `size` bytes long (Content-Length) and goes on that long."""
        return cls(huge=size)

    @classmethod
    def http(cls, status: int, *, retry_after: float | str | None = None, acted: bool | None = None) -> Fault:
        """Answer with `status` and the vendor's error body. A 429 never creates anything."""
        return cls(
            status=status,
            retry_after=None if retry_after is None else str(retry_after),
            acted=(status >= 500) if acted is None else acted,
        )

    @classmethod
    def dropped(cls) -> Fault:
        """Close the connection without answering."""
        return cls(drop=True)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer normally, but only after `seconds` (longer than the client's read timeout)."""
        return cls(delay=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """Answer 200 with a body that is not JSON."""
        return cls(bad_json=True)

    @classmethod
    def html(cls) -> Fault:
        """Answer 200 with an HTML page (a CDN login or error page instead of a video)."""
        return cls(html_page=True)

    @classmethod
    def gateway(cls, status: int = 524) -> Fault:
        """Answer `status` with Cloudflare's HTML error page, as the API has while a fetch waited (524: timeout)."""
        return cls(status=status, html_page=True, acted=status >= 500)

    @classmethod
    def unknown_status(cls) -> Fault:
        """Answer 200 with status "unknown" and an error object, as the API answers a bad or empty id."""
        return cls(unknown_answer=True)

    @classmethod
    def out_of_credits(cls) -> Fault:
        """Answer 403 with the vendor's out-of-credits body (`error.data.kind` "err_insufficent_credits")."""
        return cls(status=403, credits_body=True, acted=False)

    @classmethod
    def redirects(cls, hops: int, *, to: str | None = None) -> Fault:
        """For "video": answer with a chain of `hops` redirects through the simulator (each a 302 with its own
        request, logged as endpoint "redirect"). The last one points at `to`, an address a downloader must refuse
        (`http://169.254.169.254/latest/meta-data/`, `https://10.0.0.1/v.mp4`), or, without `to`, back at the
        video, which then answers normally. Nothing in the simulator connects to `to`."""
        if hops < 1:
            raise ValueError("a redirect chain has at least one hop")
        return cls(redirect_hops=hops, redirect_to=to)

    @classmethod
    def trickling(cls, bytes_per_second: float) -> Fault:
        """For "video": a server that trickles, sending the video at `bytes_per_second` in small pieces
        (each piece well inside any read timeout, so only a deadline or a minimum rate ends it)."""
        if bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        return cls(trickle=float(bytes_per_second))


@dataclass(frozen=True)
class JobScript:
    """How the next created job(s) end."""

    error: str | None = None  # end in status "error" with this message
    video_url: bool | str = True  # False: "completed" with no video URL; a string: this URL instead of ours
    seconds: float | None = None  # run time, instead of the simulator's default
    queued_seconds: float | None = None  # queued this long first, then `seconds` of generating (a busy server)
    id: str | None = None  # the generation id to hand out (a hostile one, or one of the real API's shapes)
    # Fetches answer 404 "Inference not found" for this long after the create, then normally: the API
    # has said so of generations that went on to complete.
    not_found_seconds: float | None = None
    # A signed link in the real CDN's shape,
    # `/signed/<key>%2Fclip%7Ev1.mp4?X-Amz-Date=<t>&X-Amz-Expires=600&X-Amz-Signature=<a>%2B<b>`: it answers only when
    # the request's raw path and query are exactly those bytes (%2F, %7E and %2B kept as they are); decoded or
    # re-quoted (requests turns %7E into ~), it is a 403 SignatureDoesNotMatch in S3's XML.
    signed_link: bool = False
    # The first `expired_links` links a fetch hands out for the job have expired: each answers `expired_status`
    # (403, 404, or 200 for an XML body with a success status) with S3's XML "AccessDenied: Request has expired",
    # for good. The next fetch's link is fresh and works. For the simulator's own links, signed or not (not for
    # `video_url` strings).
    expired_links: int = 0
    expired_status: int = 403


class FaultQueue:
    """Faults waiting for their request, per endpoint. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {endpoint: deque() for endpoint in get_args(Endpoint)}
        self._scripts: deque[JobScript] = deque()

    def inject(self, endpoint: Endpoint, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults[endpoint].extend([fault] * times)

    def script(self, script: JobScript, times: int = 1) -> None:
        with self._lock:
            self._scripts.extend([script] * times)

    def take(self, endpoint: Endpoint) -> Fault | None:
        with self._lock:
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    def take_script(self) -> JobScript:
        with self._lock:
            return self._scripts.popleft() if self._scripts else JobScript()

    def clear(self) -> None:
        with self._lock:
            for queue in self._faults.values():
                queue.clear()
            self._scripts.clear()

    def pending(self, endpoint: Endpoint) -> int:
        with self._lock:
            return len(self._faults[endpoint])
