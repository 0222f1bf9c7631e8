"""The history table: records as a DataFrame, its filters, and its exports.

Ratings are the store's (`Store.ratings`), handed in by the caller for the rows it shows: one person's own
rating and rejection beside the team's average. Without them every generation reads as unrated.
`rated_frame` does both for a whole store, and keeps the result until a row or a rating changes:
History's page runs (every click, every tick) then filter a frame instead of rebuilding one.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import pandas as pd

from .api import CREDITS_PER_USD
from .store import Rating, Record, Store, TableRow
from .text import spreadsheet_safe

#: Display columns, in order. The id is kept (hidden in the UI) to map a selected row back to its record.
COLUMNS = [
    "starred",
    "created",
    "status",
    "model",
    "prompt",
    "aspect_ratio",
    "duration",
    "seed",
    "seconds_taken",
    "credits",
    "usd",
    "video",
    "owner",
    "id",
    "rating",
    "team_rating",
    "rejected",
]


def frame(rows: Sequence[TableRow], *, link_prefix: str | None = None) -> pd.DataFrame:
    """The table from `Store.table_rows()`, newest first. A finished generation with a video gets
    `link_prefix` + its URL-quoted id in the video column. Every row reads as unrated until `with_ratings`."""
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
    return with_ratings(df, {})[COLUMNS]


#: How many frames one store keeps (one per person and link prefix): the people of one deployment, roughly.
FRAMES_KEPT = 16
_frames: weakref.WeakKeyDictionary[Store, dict[tuple, tuple[tuple, pd.DataFrame]]] = weakref.WeakKeyDictionary()
_frames_lock = threading.Lock()


def rated_frame(store: Store, *, by: str = "", link_prefix: str | None = None) -> pd.DataFrame:
    """Every row of `store` as `frame`, with `by`'s ratings beside the team's. Shared between page runs
    and sessions, so callers filter it and never change it in place."""
    # Read before the rows: a write in between leaves an older key, and the next call rebuilds.
    version = (store.version(), store.ratings_version())
    who = (by, link_prefix)
    with _frames_lock:
        kept = _frames.setdefault(store, {})
        hit = kept.get(who)
    if hit is not None and hit[0] == version:
        return hit[1]
    df = frame(store.table_rows(), link_prefix=link_prefix)
    df = with_ratings(df, store.ratings(df["id"].tolist(), by=by))
    with _frames_lock:
        kept.pop(who, None)
        kept[who] = (version, df)
        while len(kept) > FRAMES_KEPT:  # the least recently built goes first
            kept.pop(next(iter(kept)))
    return df


def with_ratings(df: pd.DataFrame, ratings: Mapping[str, Rating]) -> pd.DataFrame:
    """`df` with each row's rating (the person's own), the team's average and the person's rejection,
    from `Store.ratings()` for its ids; a row missing from `ratings` is unrated."""
    found = [ratings.get(gen_id) or Rating(gen_id) for gen_id in df["id"]]
    return df.assign(
        rating=pd.array([r.rating for r in found], dtype="Int64"),
        team_rating=pd.array([r.team_average for r in found], dtype="Float64"),
        rejected=pd.array([r.rejected for r in found], dtype=bool),
    )


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
    min_rating: int | None = None,
    hide_rejected: bool = False,
) -> pd.DataFrame:
    """Rows matching every filter that is set; an empty filter matches everything. `min_rating` keeps the rows
    rated at least that (an unrated row is not); both it and `hide_rejected` read the frame's own person's."""
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
    if min_rating:
        mask &= (df["rating"] >= min_rating).fillna(False).astype(bool)
    if hide_rejected:
        mask &= ~df["rejected"]
    if search := search.strip():
        mask &= df["prompt"].str.contains(search, case=False, regex=False, na=False)
    return df[mask]


def export_rows(records: Iterable[Record], *, ratings: Mapping[str, Rating] | None = None) -> list[dict]:
    """What an export holds per generation: the API id and the exact request body, plus the outcome, and
    the rating of whoever exports it beside the team's (from `Store.ratings()`; none given: unrated)."""
    ratings = ratings or {}
    return [_export_row(r, ratings.get(r.id) or Rating(r.id)) for r in records]


def _export_row(r: Record, rating: Rating) -> dict:
    return {
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
        "rating": rating.rating,
        "team_rating": None if rating.team_average is None else round(rating.team_average, 2),
        "team_rating_count": rating.team_count,
        "rejected": rating.rejected,
        "origin": r.origin,  # after the older columns: a spreadsheet reading them by position still does
    }


def to_json(records: Iterable[Record], *, ratings: Mapping[str, Rating] | None = None) -> bytes:
    return json.dumps(export_rows(records, ratings=ratings), ensure_ascii=False, indent=2).encode("utf-8")


def to_csv(records: Iterable[Record], *, ratings: Mapping[str, Rating] | None = None) -> bytes:
    rows = export_rows(records, ratings=ratings)
    for row in rows:
        row["request"] = json.dumps(row["request"], ensure_ascii=False, sort_keys=True)
        row["origin"] = None if row["origin"] is None else json.dumps(row["origin"], ensure_ascii=False, sort_keys=True)
        for key, value in row.items():
            if isinstance(value, str):  # ids, links, owners and statuses come from servers and people too
                row[key] = spreadsheet_safe(value)
    table = pd.DataFrame(rows, columns=EXPORT_COLUMNS)
    table["rating"] = table["rating"].astype("Int64")  # 4, not 4.0, beside the blank of an unrated row
    return table.to_csv(index=False).encode("utf-8")


EXPORT_COLUMNS = [
    "id",
    "model",
    "created",
    "completed",
    "status",
    "prompt",
    "seconds_taken",
    "credits_used",
    "usd",
    "error",
    "video_url",
    "starred",
    "note",
    "parent_id",
    "owner",
    "request",
    "rating",
    "team_rating",
    "team_rating_count",
    "rejected",
    "origin",
]


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")
