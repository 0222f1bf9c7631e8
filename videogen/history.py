"""The history table: records as a DataFrame, its filters, and its exports."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import pandas as pd

from .store import Record

#: Display columns, in order. The id is kept (hidden in the UI) to map a selected row back to its record.
COLUMNS = ["created", "status", "prompt", "aspect_ratio", "duration", "seed", "seconds_taken", "credits", "video", "id"]


def frame(records: Sequence[Record], *, link_for=lambda record: None) -> pd.DataFrame:
    """One row per record, newest first as given. `link_for(record)` gives the video column's URL."""
    rows = {
        "created": [r.created_at for r in records],
        "status": [r.status.value for r in records],
        "prompt": [r.prompt for r in records],
        "aspect_ratio": [r.request.get("aspect_ratio") for r in records],
        "duration": [r.request.get("duration") for r in records],
        "seed": [r.request.get("seed") for r in records],
        "seconds_taken": [r.seconds_taken for r in records],
        "credits": [r.credits_used for r in records],
        "video": [link_for(r) for r in records],
        "id": [r.id for r in records],
    }
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["created"] = pd.to_datetime(df["created"], unit="s", utc=True)
    df["duration"] = df["duration"].astype("Int64")
    df["seed"] = df["seed"].astype("Int64")
    df["seconds_taken"] = df["seconds_taken"].astype("Float64").round(1)
    df["credits"] = df["credits"].astype("Float64")
    return df


def filter_frame(
    df: pd.DataFrame,
    *,
    statuses: Iterable[str] = (),
    aspect_ratios: Iterable[str] = (),
    durations: Iterable[int] = (),
    search: str = "",
) -> pd.DataFrame:
    """Rows matching every filter that is set; an empty filter matches everything."""
    mask = pd.Series(True, index=df.index)
    if statuses := list(statuses):
        mask &= df["status"].isin(statuses)
    if aspect_ratios := list(aspect_ratios):
        mask &= df["aspect_ratio"].isin(aspect_ratios)
    if durations := list(durations):
        mask &= df["duration"].isin(durations)
    if search := search.strip():
        mask &= df["prompt"].str.contains(search, case=False, regex=False, na=False)
    return df[mask]


def export_rows(records: Iterable[Record]) -> list[dict]:
    """What an export holds per generation: the API id and the exact request body, plus the outcome."""
    return [
        {
            "id": r.id,
            "model": r.model,
            "created": _iso(r.created_at),
            "completed": _iso(r.completed_at),
            "status": r.status.value,
            "prompt": r.prompt,
            "seconds_taken": None if r.seconds_taken is None else round(r.seconds_taken, 1),
            "credits_used": r.credits_used,
            "error": r.error or r.video_error,
            "video_url": r.video_url,
            "request": r.request,
        }
        for r in records
    ]


def to_json(records: Iterable[Record]) -> bytes:
    return json.dumps(export_rows(records), ensure_ascii=False, indent=2).encode("utf-8")


def to_csv(records: Iterable[Record]) -> bytes:
    rows = export_rows(records)
    for row in rows:
        row["request"] = json.dumps(row["request"], ensure_ascii=False, sort_keys=True)
        for key in ("prompt", "error"):
            row[key] = _inert(row[key])
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS).to_csv(index=False).encode("utf-8")


EXPORT_COLUMNS = [
    "id", "model", "created", "completed", "status", "prompt", "seconds_taken", "credits_used", "error", "video_url", "request",
]


def _inert(text: str | None) -> str | None:
    """Spreadsheets run a cell that starts with = + - @ as a formula; a leading quote keeps a prompt text.

    The `request` column keeps the exact body: it is JSON and always starts with "{".
    """
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")
