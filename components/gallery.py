"""History's Gallery: the View choice, pages of tiles, and what a tile's keys and clicks do.

The gallery shows the same rows as the table (the page filters them first) and
shares its selection (`session.history_selection`, `?gen=` while it is one
generation), so the detail, Compare and the demo reel work the same in both
views. It draws one page of PAGE_SIZE tiles at a time, and reads the posters of
that page only: a history of 10,000 rows costs what one of 100 does, bar the
frame the page builds for both views.

Keys and clicks arrive as one trigger each (`gallery_tiles`), applied in its
callback before the next run. A trigger is only what the browser says, so it is
checked first: its id must be on the page that was drawn, its value in range.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, NamedTuple

import pandas as pd
import streamlit as st

from components import gallery_tiles, history_link, prompt_form, services, session
from components.formatting import STATUS_LOOK, model_name, seconds
from videogen import tiles
from videogen.api import Status
from videogen.connection import Connection
from videogen.store import RATINGS, Record

VIEWS = ("Gallery", "Table", "Prompts")
PAGE_SIZE = 48
#: Triggers and the values they carry: a rating, a yes or no, or nothing.
ACTIONS = {"rate": "rating", "reject": "flag", "star": "flag", "select": "flag", "open": None, "close": None, "rerun": None}


class Action(NamedTuple):
    key: str
    id: str
    value: Any = None


def view() -> str:
    """The View choice, Gallery at first; kept in the address (`?view=Table`) and for the rest of the session."""
    return st.segmented_control(
        "View",
        VIEWS,
        default="Gallery",
        required=True,
        key=session.HISTORY_VIEW,
        bind="query-params",
        # No icons in the labels: the address holds the label as shown, and ?view=Table should read as it does.
        persist_state="session",
        label_visibility="collapsed",
    )


def show(conn: Connection, frame: pd.DataFrame, selected_ids: list[str], *, linked: str | None = None, owners: bool = False) -> list[str]:
    """One page of `frame` as tiles; returns the selected ids among its rows, as `history_table.table` does.

    `linked`: a generation a link just named; the gallery turns to its page. `owners`: name who made each
    (the team's view), as the table's Team column does.
    """
    ids = frame["id"].tolist()
    position = {gen_id: i for i, gen_id in enumerate(ids)}
    selected = [i for i in selected_ids if i in position]
    if linked in position:
        session.set_gallery_page(position[linked] // PAGE_SIZE)
    page = _pager(len(ids))
    shown = frame.iloc[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    records = {r.id: r for r in conn.store.find(shown["id"].tolist())}
    chosen = set(selected)
    data = [_tile(row, records.get(row.id), conn, chosen, owners) for row in shown.itertuples(index=False)]
    gallery_tiles.tiles(
        data,
        open_id=selected[0] if len(selected) == 1 else None,
        key=session.GALLERY,
        on_action=partial(_on_action, conn, shown["id"].tolist()),
    )
    return selected


def _pager(count: int) -> int:
    """The page shown (from 0), with Previous and Next when there is more than one."""
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(max(0, session.gallery_page()), pages - 1)
    session.set_gallery_page(page)
    if pages > 1:
        with st.container(horizontal=True, vertical_alignment="center", gap="small", key="gallery-pager"):
            st.button(
                "Previous",
                icon=":material/chevron_left:",
                key="gallery-previous",
                disabled=page == 0,
                on_click=session.set_gallery_page,
                args=(page - 1,),
            )
            st.caption(f"Page {page + 1:,} of {pages:,} · tiles {page * PAGE_SIZE + 1:,}–{min(count, (page + 1) * PAGE_SIZE):,}")
            st.button(
                "Next",
                icon=":material/chevron_right:",
                key="gallery-next",
                disabled=page == pages - 1,
                on_click=session.set_gallery_page,
                args=(page + 1,),
            )
    return page


def _tile(row: Any, record: Record | None, conn: Connection, selected: set[str], owners: bool) -> dict[str, Any]:
    """What the browser draws for one row of History's frame (`record`: its generation, None if just deleted)."""
    status = Status(row.status)
    label, color, _ = STATUS_LOOK[status]
    width, height = _ratio(row.aspect_ratio)
    video = record.video_file(conn.store.videos_dir) if record is not None and status is Status.COMPLETED else None
    images = tiles.tile_images(video, portrait=height > width)
    rating = None if pd.isna(row.rating) else int(row.rating)
    return {
        "id": row.id,
        "status": label,
        "status_key": status.value,
        "color": color,
        "model": model_name(row.model),
        "prompt": row.prompt or "",
        "duration": None if pd.isna(row.duration) else f"{int(row.duration)} s",
        "ratio": f"{width} / {height}",
        "portrait": height > width,
        "poster": images.poster,
        "strip": images.strip,
        "note": _note(status, record, images.reason, conn),
        "clock": _clock(status, record, conn),
        "maker": services.owner_label(row.owner) if owners and row.owner else None,
        "rating": rating,
        "rejected": bool(row.rejected),
        "starred": bool(row.starred),
        "selected": row.id in selected,
    }


def _ratio(value: object) -> tuple[int, int]:
    """The request's aspect ratio ("9:16"), 16:9 when it names none or an odd one."""
    try:
        width, height = (int(part) for part in str(value).split(":"))
    except ValueError:
        return 16, 9
    return (width, height) if 0 < width <= 64 and 0 < height <= 64 and 1 / 4 <= width / height <= 4 else (16, 9)


def _clock(status: Status, record: Record | None, conn: Connection) -> dict[str, Any] | None:
    """For a running tile, what the browser needs to tick its note every second without a page run:
    when it started and when it should end (epoch seconds; None while the server has not started it)."""
    if record is None or not status.is_pending:
        return None
    plan = conn.poll_plan(record)
    left = plan.remaining(time.time())
    return {"started": record.created_at, "ends": time.time() + left, "waiting": bool(plan.waiting)}


def _note(status: Status, record: Record | None, reason: str | None, conn: Connection) -> str | None:
    """The line over the poster: progress while it runs, why it failed, why there is no poster."""
    if record is None:
        return "No longer in the history."
    if status.is_pending:
        plan = conn.poll_plan(record)
        now = time.time()
        left = plan.remaining(now)
        eta = f"about {seconds(left)} left" if left > 0 else "taking longer than usual"
        return f"{seconds(now - record.created_at)} elapsed · {'waiting on the server' if plan.waiting else eta}"
    if status is Status.LOST:
        return "The server no longer has this generation."
    if status is Status.FAILED:
        return record.error or "The server gave no reason."
    if reason == tiles.NOT_SAVED:
        if record.video_path:
            return "No copy of this video on this server."
        return record.video_error or ("Saving the video…" if record.video_url else "No video for this generation.")
    return reason


# -- what a key or click does -------------------------------------------------------------------


def checked(action: object, shown: list[str]) -> Action | None:
    """`action` from the browser as an Action, or None when it is not one this page could have sent:
    an unknown key, an id not among the tiles `shown`, a value out of range."""
    if not isinstance(action, dict):
        return None
    key, gen_id, value = action.get("key"), action.get("id"), action.get("value")
    if key not in ACTIONS or not isinstance(gen_id, str) or gen_id not in shown:
        return None
    kind = ACTIONS[key]
    if kind == "rating":
        return Action(key, gen_id, value) if type(value) is int and value in RATINGS else None
    if kind == "flag":
        return Action(key, gen_id, value) if isinstance(value, bool) else None
    return Action(key, gen_id)


def _on_action(conn: Connection, shown: list[str]) -> None:
    trigger = session.value(session.GALLERY) or {}
    action = checked(trigger.get("action"), shown)
    if action is not None:
        apply(conn, action)


def apply(conn: Connection, action: Action) -> None:
    """Do what a checked key or click asks: a button callback, before the run that shows it."""
    user = services.signed_in_user()
    if action.key == "rate":
        if not conn.store.set_rating(action.id, action.value, by=user):
            st.toast("Only a finished generation can be rated.", icon=":material/info:")
    elif action.key == "reject":
        if not conn.store.set_rejected(action.id, action.value, by=user):
            st.toast("Only a finished generation can be rejected.", icon=":material/info:")
        elif action.value:
            st.toast("Rejected. History hides it while *Hide rejected* is on; nothing is deleted.", icon=":material/block:")
    elif action.key == "star":
        # The store checks the maker, as the Star button does.
        if not conn.store.set_starred(action.id, action.value, by=user or None):
            st.toast("Only the person who made it can star it.", icon=":material/block:")
    elif action.key == "select":
        kept = [i for i in session.history_selection() if i != action.id]
        history_link.follow([*kept, action.id] if action.value else kept)
    elif action.key == "open":
        history_link.follow([action.id])
    elif action.key == "close":
        history_link.follow([i for i in session.history_selection() if i != action.id])
    elif action.key == "rerun" and (record := conn.store.get(action.id)) is not None:
        prompt_form.rerun_in_form(record.request, record.id)
