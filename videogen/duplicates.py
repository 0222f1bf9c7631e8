"""Telling a second click from a second submission.

A double click, a second Enter, or a click that lands while the page is still
busy with the first one all arrive as another submission of the same request.
Within a short window an identical request is taken to be the same submission
and is not sent again: a generation costs money, and a person who really wants
two identical videos can press again a moment later.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

DUPLICATE_WINDOW_SECONDS = 3.0


def fingerprint(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class DuplicateGuard:
    """Per browser tab: remembers the last request sent and when."""

    def __init__(self, window: float = DUPLICATE_WINDOW_SECONDS, clock=time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last: tuple[str, float] | None = None

    def is_repeat(self, body: Mapping[str, Any]) -> bool:
        if self._last is None:
            return False
        last_print, at = self._last
        return last_print == fingerprint(body) and self._clock() - at < self.window

    def sent(self, body: Mapping[str, Any]) -> None:
        self._last = (fingerprint(body), self._clock())
