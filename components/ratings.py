"""A finished generation's rating (1 to 5 stars) and Reject, on its card and in History's details.

Each change is written to the store at once, as the signed-in person's own ('' with sign-in off); with
sign-in on, the team's average and how many it is of show beside the stars. The stars' widget is set from
the store before every draw, so a rating made in another tab shows on the next run, not a stale one.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from components import services, session
from videogen import reel
from videogen.connection import Connection
from videogen.store import Rating, Record, Store


def of(conn: Connection, records: Iterable[Record]) -> dict[str, Rating]:
    """The signed-in person's ratings of `records`, beside the team's: one query for all of them."""
    ids = [r.id for r in records]
    return conn.store.ratings(ids, by=services.signed_in_user()) if ids else {}


def control(conn: Connection, record: Record, rating: Rating, *, key: str) -> None:
    """The stars, Reject, and with sign-in the team's figure, on one line."""
    user = services.signed_in_user()
    stars = f"{key}-rating-{record.id}"
    # st.feedback counts stars from 0; a click on the star already chosen takes the rating back (None).
    session.assign(stars, None if rating.rating is None else rating.rating - 1)
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.feedback("stars", key=stars, on_change=_rate, args=(conn.store, record.id, stars, user))
        st.button(
            "Rejected" if rating.rejected else "Reject",
            icon=":material/block:",
            key=f"{key}-reject-{record.id}",
            type="primary" if rating.rejected else "secondary",
            on_click=_reject,
            args=(conn.store, record.id, not rating.rejected, user),
            help="Rejected: History hides it while Hide rejected is on. Click to take the rejection back."
            if rating.rejected
            else "Not good enough: History hides it while Hide rejected is on; it is kept.",
        )
        if services.sign_in_configured() and (team := reel.team_figure(rating)):
            st.caption(team)


def _rate(store: Store, generation_id: str, stars: str, by: str) -> None:
    chosen = session.value(stars)
    if not store.set_rating(generation_id, None if chosen is None else chosen + 1, by=by):
        _gone()


def _reject(store: Store, generation_id: str, rejected: bool, by: str) -> None:
    if not store.set_rejected(generation_id, rejected, by=by):
        _gone()
    elif rejected:
        st.toast("Rejected. History hides it while *Hide rejected* is on; nothing is deleted.", icon=":material/block:")


def _gone() -> None:
    # Deleted (from History, or by another tab) since the page was drawn: nothing left to rate.
    st.toast("That generation is no longer in the history.", icon=":material/error:")
