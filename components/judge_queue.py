"""Judge blind: generations of several models judged two at a time, one blind vote after another.

`?judge=a,b,c` on Compare names them (a Models batch, or rows picked in History). Every two of them made by
different models is a pair. The pairs are put in order once per set of generations and kept in this tab's
session with how far it got, so a rerun, or a look at the Leaderboard and back, carries on where it was.
The order is a round robin over the generations shuffled: each round shows every generation once, so one
video does not come back pair after pair. Each pair is an ordinary blind comparison (`blind_vote`):
shuffled, voted once, then revealed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import streamlit as st

from components import blind_vote, compare_view, session
from components.judge_link import PARAM
from videogen import variants
from videogen.store import Record, Store

# A Models batch's most. Pairs grow as the square: 8 generations are 28 pairs, already a long sitting.
MAX_JUDGED = variants.MAX_ITEMS


@dataclass(frozen=True)
class JudgeQueue:
    pairs: tuple[tuple[str, str], ...]  # generation ids, in the order they are judged
    at: int = 0  # the pair on show; len(pairs) once every pair has been seen


def wanted() -> list[str]:
    """The generations the link asks to judge; [] when it is not a Judge blind link."""
    return list(dict.fromkeys(i.strip() for i in st.query_params.get(PARAM, "").split(",") if i.strip()))


def pairs(records: Sequence[Record], rng: random.Random | None = None) -> list[tuple[str, str]]:
    """Every two of `records` of different models, round by round (the circle method of a round robin)."""
    ids: list[str | None] = [r.id for r in records]
    (rng or random.SystemRandom()).shuffle(ids)
    model = {r.id: r.model for r in records}
    if len(ids) % 2:
        ids.append(None)  # a rest: with an odd number, each round one generation sits out
    found = []
    for _ in range(len(ids) - 1):
        for a, b in zip(ids[: len(ids) // 2], reversed(ids[len(ids) // 2 :]), strict=True):
            if a is not None and b is not None and model[a] != model[b]:
                found.append((a, b))
        ids = [ids[0], ids[-1], *ids[1:-1]]  # the first stays, the rest turn one place
    return found


def render(store: Store) -> None:
    """The pair on show, blind, with how far the queue has got; then what came of it."""
    asked = wanted()
    records = compare_view.checked(store, asked)
    if len(records) > MAX_JUDGED:
        st.info(
            f"Judge blind takes up to {MAX_JUDGED} generations at a time: the first {MAX_JUDGED} of these {len(records)} are judged.",
            icon=":material/how_to_vote:",
        )
        records = records[:MAX_JUDGED]
    # Known by the link's ids, not by those still here: a deletion on the way leaves its pairs to be skipped.
    judged = blind_vote.comparison_key(asked)
    queue = session.judge_queue(judged)
    if queue is None:
        queue = JudgeQueue(tuple(pairs(records)))
        session.set_judge_queue(judged, queue)
    total = len(queue.pairs)
    if not total:
        st.info(
            "Judge blind needs finished videos of at least two different models: open it from a batch that "
            "sweeps **Models**, or from History rows of different models.",
            icon=":material/how_to_vote:",
        )
        return
    voted = sum(session.blind_vote(blind_vote.comparison_key(pair)) is not None for pair in queue.pairs)
    if queue.at >= total:
        _done(total, voted)
        return
    models = len({r.model for r in records})
    st.caption(
        f":material/visibility_off: Judging {len(records)} generations of {models} models blind, two at a "
        f"time: every pair of different models."
    )
    st.progress(queue.at / total, text=f"Pair {queue.at + 1} of {total} · {voted} voted")
    by_id = {r.id: r for r in records}
    pair = [by_id[i] for i in queue.pairs[queue.at] if i in by_id]
    if len(pair) < 2:
        st.info("This pair is no longer here: one of them was deleted meanwhile.", icon=":material/videocam_off:")
        vote = None
    else:
        vote = blind_vote.comparison(pair, store, parameters=False)
    last = queue.at + 1 == total
    if vote is not None or len(pair) < 2:
        label, kind = ("Finish" if last else "Next pair"), "primary"
    else:
        label, kind = ("Skip this pair, and finish" if last else "Skip this pair"), "secondary"
    st.button(label, type=kind, icon=":material/skip_next:", key=f"judge-next-{judged}", on_click=_advance, args=(judged, queue.at))
    if vote is not None:  # below the button, which should not have to be scrolled to
        compare_view.parameter_table(blind_vote.in_blind_order(pair))


def _advance(judged: str, at: int) -> None:
    queue = session.judge_queue(judged)
    if queue is not None and queue.at == at:  # a double click moves on once
        session.set_judge_queue(judged, replace(queue, at=at + 1))


def _done(total: int, voted: int) -> None:
    skipped = total - voted
    left = f", {skipped} skipped" if skipped else ""
    st.success(f"All {total} pairs seen: {voted} vote{'s' if voted != 1 else ''} recorded{left}.", icon=":material/how_to_vote:")
    st.page_link("pages/leaderboard.py", label="See the Leaderboard", icon=":material/leaderboard:")
