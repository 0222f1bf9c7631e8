"""Compare's Blind mode: the videos as A, B, C, D in a shuffled order, nothing that names a model, and a vote.

The order is drawn once per comparison (its set of ids, in whatever order the link gives them) and kept in
this tab's session, so a rerun never reshuffles it; the link keeps the ids in their own order, which says
which generations are compared but never which letter is which. Before the vote nothing on the page names
a model: no picker, no parameters, no captions, and no widget key made from an id (a key becomes a class
name in the page, and an id can carry its model: "<uuid>:veo2"). Streamlit serves each video under a digest
of its bytes, so its address names nothing either.

A vote is recorded with who cast it (the signed-in person; '' with sign-in off); then the names are shown.
One vote per comparison per tab: a second click, or the same comparison opened again, finds it voted.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence

import streamlit as st

from components import compare_view, services, session
from components.formatting import clock, model_name
from components.markdown import literal
from videogen.store import MissingGenerations, Record, Store, Vote

LETTERS = compare_view.LETTERS
_RANDOM = random.SystemRandom()  # nobody can guess the order from the time the page was opened


def switch() -> bool:
    """The Blind switch; the link carries it (`blind=1`), so a reload does not show the names."""
    from_link = st.query_params.get("blind") == "1"
    on = st.toggle(
        "Blind",
        value=from_link,
        key=session.COMPARE_BLIND,
        help="Hide the models and their settings, shuffle the order, and vote for the better one. "
        "The names show once your vote is in, and the vote counts on the Leaderboard.",
    )
    if on and not from_link:
        st.query_params["blind"] = "1"
    elif from_link and not on:
        del st.query_params["blind"]
    return on


def comparison_key(ids: Iterable[str]) -> str:
    """A comparison's name in this tab's session and in widget keys: its set of ids, as a digest that names none."""
    return hashlib.sha256(json.dumps(sorted(ids)).encode()).hexdigest()[:12]


def shuffled(ids: Sequence[str]) -> list[str]:
    order = list(ids)
    _RANDOM.shuffle(order)
    return order


def in_blind_order(records: Sequence[Record]) -> list[Record]:
    """`records` in this comparison's order: shuffled the first time this tab shows them, the same ever after."""
    by_id = {r.id: r for r in records}
    key = comparison_key(by_id)
    order = session.blind_order(key)
    if order is None or set(order) != set(by_id):
        order = shuffled(list(by_id))
        session.set_blind_order(key, order)
    return [by_id[i] for i in order]


def refusal() -> None:
    """Why the last vote was not recorded, once (its comparison may be gone from the page by now)."""
    if text := session.take_blind_refusal():
        st.error(text, icon=":material/block:")


def comparison(records: Sequence[Record], store: Store, *, parameters: bool = True) -> Vote | None:
    """The comparison, blind until this tab has voted on it, then with its names; the vote, once there is one.

    Once voted, the parameter table follows unless `parameters` is False (Judge blind puts its Next first).
    """
    shown = in_blind_order(records)
    key = comparison_key(r.id for r in shown)
    vote = session.blind_vote(key)
    if vote is None:
        compare_view.videos(shown, store, headings=[f"**{letter}**" for letter in LETTERS[: len(shown)]])
        _ask(shown, store, key)
        return None
    compare_view.videos(shown, store, headings=_revealed(shown, vote))
    _confirmation(shown, vote)
    if parameters:
        compare_view.parameter_table(shown)
    return vote


def _ask(shown: list[Record], store: Store, key: str) -> None:
    ids = tuple(r.id for r in shown)
    two = len(shown) == 2
    st.markdown("**Which is better?**" if two else f"**Which is the best of these {len(shown)}?**")
    with st.container(horizontal=True, gap="small", key=f"blind-ask-{key}"):
        for letter, gen_id in zip(LETTERS, ids, strict=False):
            st.button(
                f"{letter} is better" if two else f"{letter} is best",
                key=f"blind-{key}-{letter}",
                icon=":material/thumb_up:",
                on_click=_cast,
                args=(store, ids, gen_id, key),
            )
            if two and letter == "A":  # between the two: A, a tie, B
                st.button("Tie", key=f"blind-{key}-tie", icon=":material/drag_handle:", on_click=_cast, args=(store, ids, None, key))
    st.caption(":material/visibility_off: The models and their settings show once your vote is in.")


def _cast(store: Store, ids: tuple[str, ...], winner: str | None, key: str) -> None:
    if session.blind_vote(key) is not None:  # a second click that left before the page had changed
        return
    try:
        vote = store.record_vote(ids, winner, by=services.signed_in_user())
    except MissingGenerations as gone:
        letters = [LETTERS[ids.index(i)] for i in gone.missing]
        which = f"video {letters[0]} was" if len(letters) == 1 else f"videos {' and '.join(letters)} were"
        # By letter, not by id: an id can name its model, and the others are still to be judged blind.
        session.set_blind_refusal(f"The vote was not recorded: {which} deleted meanwhile. Nothing was counted.")
        return
    session.set_blind_vote(key, vote)


def _revealed(shown: list[Record], vote: Vote) -> list[str]:
    headings = []
    for letter, record in zip(LETTERS, shown, strict=False):
        name = literal(" ".join(model_name(record.model).split()))
        if vote.winner is None:
            badge = " :gray-badge[tie]"
        elif vote.winner == record.id:
            badge = " :green-badge[:material/trophy: your pick]"
        else:
            badge = ""
        headings.append(f"**{letter}** · {name}{badge}")
    return headings


def _confirmation(shown: list[Record], vote: Vote) -> None:
    if vote.winner is None:
        said = "A and B tie"
    else:
        index = vote.shown.index(vote.winner)
        name = literal(" ".join(model_name(shown[index].model).split()))
        said = f"**{LETTERS[index]}** ({name}) is {'better' if len(shown) == 2 else 'the best'}"
    voter = services.as_code(services.signed_in_name()) if vote.person else ""
    by = f" as {voter}" if voter else ""
    st.success(f"Vote recorded{by} at {clock(vote.at)}: {said}.", icon=":material/how_to_vote:")
    st.page_link("pages/leaderboard.py", label="See the Leaderboard", icon=":material/leaderboard:")
