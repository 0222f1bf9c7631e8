"""The history table: records as a DataFrame, its filters, and its exports."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import pandas as pd

from .api import CREDITS_PER_USD
from .store import Record, TableRow

#: Display columns, in order. The id is kept (hidden in the UI) to map a selected row back to its record.
COLUMNS = [
    "starred", "created", "status", "model", "prompt", "aspect_ratio", "duration", "seed", "seconds_taken", "credits", "usd",
    "video",
    "owner", "id",
]


def frame(rows: Sequence[TableRow], *, link_prefix: str | None = None) -> pd.DataFrame:
    """The table from `Store.table_rows()`, newest first. A finished generation with a video gets
    `link_prefix` + its URL-quoted id in the video column."""
    df = pd.DataFrame.from_records(rows, columns=TableRow._fields)
    df["starred"] = df["starred"].astype(bool)
    df["created"] = pd.to_datetime(df["created"], unit="s", utc=True)
    # Some models take a duration or seed as text ("5"), and some take none.
    df["duration"] = _whole_numbers(df["duration"])
    df["seed"] = _whole_numbers(df["seed"])
    df["seconds_taken"] = df["seconds_taken"].astype("Float64").round(1)
    df["credits"] = df["credits"].astype("Float64")
    df["usd"] = df["credits"] / CREDITS_PER_USD
    df["video"] = _links(df, link_prefix) if link_prefix else None
    return df[COLUMNS]


def _whole_numbers(column: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(column):
        return column.astype("Int64")
    numbers = pd.to_numeric(column, errors="coerce")
    return numbers.where(numbers.isna() | (numbers % 1 == 0)).astype("Float64").round().astype("Int64")


def _links(df: pd.DataFrame, prefix: str) -> pd.Series:
    # Ids are normally "<uuid>:<model>", where only ":" needs quoting; quote() the rare other id
    # (quote() on every one of 10,000 rows costs more than the rest of the table).
    ids = df["id"].astype(str)
    common = ids.str.fullmatch(r"[A-Za-z0-9._~:-]+")
    quoted = ids.str.replace(":", "%3A", regex=False)
    quoted[~common] = ids[~common].map(lambda i: quote(i, safe=""))
    return (prefix + quoted).where(df["has_video"].astype(bool), None)


def filter_frame(
    df: pd.DataFrame,
    *,
    statuses: Iterable[str] = (),
    models: Iterable[str] = (),
    aspect_ratios: Iterable[str] = (),
    durations: Iterable[int] = (),
    search: str = "",
    starred: bool = False,
    owner: str | None = None,
) -> pd.DataFrame:
    """Rows matching every filter that is set; an empty filter matches everything."""
    mask = pd.Series(True, index=df.index)
    if statuses := list(statuses):
        mask &= df["status"].isin(statuses)
    if models := list(models):
        mask &= df["model"].isin(models)
    if aspect_ratios := list(aspect_ratios):
        mask &= df["aspect_ratio"].isin(aspect_ratios)
    if durations := list(durations):
        mask &= df["duration"].isin(durations)
    if starred:
        mask &= df["starred"]
    if owner is not None:
        mask &= df["owner"] == owner
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
            "usd": None if r.credits_used is None else r.credits_used / CREDITS_PER_USD,
            "error": r.error or r.video_error,
            "video_url": r.video_url,
            "starred": r.starred,
            "note": r.note,
            "parent_id": r.parent_id,
            "owner": r.owner,
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
        for key, value in row.items():
            if isinstance(value, str):  # ids, links, owners and statuses come from servers and people too
                row[key] = _inert(value)
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS).to_csv(index=False).encode("utf-8")


EXPORT_COLUMNS = [
    "id", "model", "created", "completed", "status", "prompt", "seconds_taken", "credits_used", "usd", "error", "video_url",
    "starred", "note", "parent_id", "owner", "request",
]


def _inert(text: str | None) -> str | None:
    """Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula; a leading
    quote keeps it text. A cell that starts with a quote gets one too, so taking one leading quote off every
    cell that has one always gives the exact value back (ids such as `-G3b3vVKdoC42fMNeK1T5` are real).

    The `request` column keeps the exact body: it is JSON and always starts with "{".
    """
    if text and text[0] in "=+-@\t\r'":
        return "'" + text
    return text


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")
