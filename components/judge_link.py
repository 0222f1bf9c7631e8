"""The Judge blind link of a Models batch and of History's selection: Compare, `?judge=a,b,c`, two at a time."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from videogen.store import Record

PARAM = "judge"


def judge_link(records: Sequence[Record]) -> None:
    """`Judge blind` for finished generations: enabled once two of them are of different models."""
    ids = [r.id for r in records]
    apart = len({r.model for r in records}) >= 2
    st.page_link(
        "pages/compare.py",
        label="Judge blind",
        icon=":material/how_to_vote:",
        query_params={PARAM: ",".join(ids)},
        disabled=not apart,
        help="Vote on them two at a time with the models hidden; each vote counts on the Leaderboard."
        if apart
        else "Needs finished videos of two different models.",
    )
