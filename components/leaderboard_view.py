"""The Leaderboard page's pieces: which votes count (a kind, a person, a prompt search), the models ranked by
them (`videogen.leaderboard`), the sentence about the top two, and the CSV.

The fit (Bradley-Terry, refitted 200 times for the bootstrap intervals) is the page's one slow step, so it
is cached by the votes it counts: a digest of their ids. A vote is never changed and its id never reused,
so the same filters over the same votes are fitted once however often the page reruns, and a new vote, or
other filters, are fitted anew.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from components import services
from components.markdown import literal
from videogen import catalog, leaderboard
from videogen.leaderboard import Leaderboard, Standing
from videogen.store import Vote

COLUMN_CONFIG = {
    "rank": st.column_config.NumberColumn(
        "Rank", format="%d", width=45, help="Models whose intervals overlap share a rank: the votes do not part them."
    ),
    "name": st.column_config.TextColumn("Model", width=150),
    "strength": st.column_config.NumberColumn(
        "Strength",
        format="%.2f",
        width=70,
        help="Bradley-Terry log-strength, the models' mean at 0: a model beats another with chance 1 / (1 + e^(theirs − its)).",
    ),
    "interval": st.column_config.TextColumn("95% interval", width=105, help="Bootstrap over the votes counted."),
    "votes": st.column_config.NumberColumn("Votes", format="%d", width=50, help="Votes it was shown in."),
    "wins": st.column_config.NumberColumn("Wins", format="%d", width=45, help="Votes it won; a tie is no win."),
    "tied": st.column_config.TextColumn("Tied with", width=185, help="Models whose 95% intervals overlap this one's."),
    "model": st.column_config.TextColumn("Model id", width=170),
}
# The widths add up to the main column's beside the sidebar at 1280 px; a long id shows whole on hover.


def kind_label(kind: str) -> str:
    return kind.replace("-", " ").capitalize()


def no_votes_yet() -> None:
    st.info(
        "No votes yet. In **Compare**, switch on **Blind**, watch the videos and say which is better; or press "
        "**Judge blind** on a batch that sweeps **Models** (or on History rows of different models) to vote on "
        "them two at a time. Each vote ranks the models here.",
        icon=":material/leaderboard:",
    )
    st.page_link("pages/compare.py", label="Open Compare", icon=":material/compare:")


def filters(votes: Sequence[Vote]) -> dict[str, Any]:
    """The filter widgets, as `Store.votes()` arguments; the person filter only with sign-in (else everyone is '')."""
    people_too = services.sign_in_configured()
    # Room for the three kinds unclipped.
    kind_col, *person_col, search_col = st.columns([2.2, 1.3, 1.5] if people_too else [2.2, 1.5], vertical_alignment="bottom")
    kind = kind_col.segmented_control(
        "Kind",
        catalog.KINDS,
        format_func=kind_label,
        key="board_kind",
        help="Only votes among models of this kind; none chosen: every vote.",
    )
    by = None
    if people_too:
        people = sorted({v.person for v in votes}, key=lambda p: services.owner_label(p).casefold())
        by = person_col[0].selectbox(
            "Person",
            [None, *people],
            key="board_person",
            format_func=lambda p: "Everyone" if p is None else services.owner_label(p) or "Before sign-in",
        )
    search = search_col.text_input("Search prompts", key="board_search", placeholder="Words in the prompt")
    return {"kind": kind, "by": by, "search": search}


@st.cache_data(max_entries=64, show_spinner="Fitting the leaderboard…")
def _fit(digest: str, _votes: tuple[Vote, ...]) -> Leaderboard:
    return leaderboard.fit(_votes)


def fitted(votes: Sequence[Vote]) -> Leaderboard:
    """The board from these votes, fitted once per set of votes (see the module's docstring)."""
    digest = hashlib.sha256("\n".join(v.id for v in votes).encode()).hexdigest()
    return _fit(digest, tuple(votes))


def nothing_to_rank(votes: Sequence[Vote]) -> None:
    if not votes:
        st.info("No votes match these filters.", icon=":material/filter_alt_off:")
    else:
        st.info(
            f"None of these {len(votes)} votes compares two models: videos of one model compared with each other say nothing about models.",
            icon=":material/leaderboard:",
        )


def _name(standing: Standing) -> str:
    return f"**{literal(' '.join(standing.name.split()))}**"


def summary(board: Leaderboard, votes: Sequence[Vote]) -> None:
    """How many votes count, and what they say about the top two."""
    first, second = board.standings[0], board.standings[1]
    if board.votes_to_separate is None:
        said = f"{_name(first)} and {_name(second)} are level: more votes like these would not separate them."
    elif board.votes_to_separate == 0:
        said = f"{_name(first)} leads {_name(second)}, and the votes separate them: their 95% intervals do not overlap."
    else:
        more = board.votes_to_separate
        said = (
            f"{_name(first)} leads {_name(second)}, but their 95% intervals overlap: about **{more:,}** more "
            f"vote{'s' if more != 1 else ''} like these would separate them."
        )
    st.markdown(said)
    ignored = len(votes) - board.votes
    aside = f" ({ignored} among one model's videos say nothing about models)" if ignored else ""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(f"{len(board.standings)} models from {board.votes:,} vote{'s' if board.votes != 1 else ''}{aside}")
        st.download_button(
            "Export CSV",
            data=partial(leaderboard.to_csv, board),
            file_name="leaderboard.csv",
            mime="text/csv",
            icon=":material/table_view:",
            on_click="ignore",
            key="board-export",
        )


def frame(board: Leaderboard) -> pd.DataFrame:
    """The board as the page shows it: names for the tied models, the interval as one column."""
    names = {s.model: s.name for s in board.standings}
    return pd.DataFrame(
        [
            {
                "rank": s.rank,
                "name": s.name,
                "strength": s.strength,
                "interval": f"{s.low:.2f} to {s.high:.2f}",
                "votes": s.votes,
                "wins": s.wins,
                "tied": ", ".join(names[m] for m in s.tied_with),
                "model": s.model,
            }
            for s in board.standings
        ],
        columns=list(COLUMN_CONFIG),
    )


def table(board: Leaderboard) -> None:
    shown = frame(board)
    st.dataframe(shown, column_config=COLUMN_CONFIG, hide_index=True)


def chart(board: Leaderboard) -> None:
    """Each model's strength and 95% interval on one axis, strongest at the top: the overlaps are the ties."""
    names = [s.name for s in board.standings]
    # Two models of one name (a vendor's text and image to video) would share a row: their ids tell them apart.
    labels = [f"{s.name} ({s.model})" if names.count(s.name) > 1 else s.name for s in board.standings]
    data = pd.DataFrame(
        {
            "model": labels,
            "strength": [s.strength for s in board.standings],
            "low": [s.low for s in board.standings],
            "high": [s.high for s in board.standings],
            "votes": [s.votes for s in board.standings],
        }
    )
    rows = alt.Chart(data).encode(y=alt.Y("model:N", sort=labels, title=None))
    # The theme colours the points only; a rule is drawn black unless told, unreadable on the dark theme.
    color = st.get_option("theme.primaryColor") or "#8B7CFF"
    interval = rows.mark_rule(strokeWidth=4, opacity=0.45, color=color).encode(
        x=alt.X("low:Q", title="Strength, with its 95% interval"), x2="high:Q"
    )
    strength = rows.mark_point(filled=True, size=110, opacity=1, color=color).encode(
        x="strength:Q",
        tooltip=[
            alt.Tooltip("model:N", title="Model"),
            alt.Tooltip("strength:Q", format=".2f", title="Strength"),
            alt.Tooltip("low:Q", format=".2f", title="From"),
            alt.Tooltip("high:Q", format=".2f", title="To"),
            alt.Tooltip("votes:Q", title="Votes"),
        ],
    )
    st.altair_chart(interval + strength, height=60 + 34 * len(labels), width="stretch")
