"""Fault knobs for the simulator: what a test can make the fake API do wrong."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

Endpoint = Literal["create", "fetch", "video"]


@dataclass(frozen=True)
class Fault:
    """One misbehaviour, applied to one request.

    Build them with the class methods: `Fault.http(429, retry_after=2)`,
    `Fault.dropped()`, `Fault.slow(5)`, `Fault.malformed()`, `Fault.html()`.
    """

    status: int | None = None
    retry_after: str | None = None
    drop: bool = False
    delay: float = 0.0
    bad_json: bool = False
    html_page: bool = False
    # For create: whether the job is created before the fault strikes, the
    # worst case for a client (the server acted, the client can't tell).
    acted: bool = True

    @property
    def only_delays(self) -> bool:
        return self.status is None and not (self.drop or self.bad_json or self.html_page)

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


@dataclass(frozen=True)
class JobPlan:
    """How the next created job(s) end."""

    error: str | None = None  # end in status "error" with this message
    video_url: bool | str = True  # False: "completed" with no video URL; a string: this URL instead of ours
    seconds: float | None = None  # run time, instead of the simulator's default
    queued_seconds: float | None = None  # queued this long first, then `seconds` of generating (a busy server)
    id: str | None = None  # the generation id to hand out (a hostile one, for tests)


class FaultQueue:
    """Faults waiting for their request, per endpoint. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {"create": deque(), "fetch": deque(), "video": deque()}
        self._plans: deque[JobPlan] = deque()

    def inject(self, endpoint: Endpoint, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults[endpoint].extend([fault] * times)

    def plan(self, plan: JobPlan, times: int = 1) -> None:
        with self._lock:
            self._plans.extend([plan] * times)

    def take(self, endpoint: Endpoint) -> Fault | None:
        with self._lock:
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    def take_plan(self) -> JobPlan:
        with self._lock:
            return self._plans.popleft() if self._plans else JobPlan()

    def clear(self) -> None:
        with self._lock:
            for queue in self._faults.values():
                queue.clear()
            self._plans.clear()

    def pending(self, endpoint: Endpoint) -> int:
        with self._lock:
            return len(self._faults[endpoint])
