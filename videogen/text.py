"""Text cut to fit a label, a message or a line of the reel's page."""

from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """`text` as it is when it fits in `limit` characters; otherwise its start and an ellipsis, `limit` in all."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def spreadsheet_safe(text: str | None) -> str | None:
    """Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula; a leading
    quote keeps it text. A cell that starts with a quote gets one too, so taking one leading quote off every
    cell that has one always gives the exact value back (ids such as `-G3b3vVKdoC42fMNeK1T5` are real).
    """
    if text and text[0] in "=+-@\t\r'":
        return "'" + text
    return text
