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


class DoubleSubmitGuard:
    """Per browser tab: remembers the last request sent, and whether the page has shown it since.

    The window counts from when the page that answered the submission was shown, not from the send:
    on a busy server the second click of a double click can be handled seconds after the first
    create, behind the rest of that page run. Until that page is shown (`shown()`, at the end of a
    run that was not cut short) the same request is a repeat however long it took.
    """

    def __init__(self, window: float = DUPLICATE_WINDOW_SECONDS, clock=time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last: tuple[str, float] | None = None
        self._shown = True

    def is_repeat(self, body: Mapping[str, Any]) -> bool:
        if self._last is None:
            return False
        last_print, at = self._last
        return last_print == fingerprint(body) and (not self._shown or self._clock() - at < self.window)

    def sent(self, body: Mapping[str, Any]) -> None:
        self._last = (fingerprint(body), self._clock())
        self._shown = False

    def shown(self) -> None:
        """A page run that began after the last send has drawn the whole page: the window starts now."""
        if self._last is not None and not self._shown:
            self._last = (self._last[0], self._clock())
            self._shown = True
