"""Text cut to fit a label, a message or a line of the reel's page."""

from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """`text` as it is when it fits in `limit` characters; otherwise its start and an ellipsis, `limit` in all."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
