"""The Compare page's pieces: which generations (from `?ids=a,b,c`), their videos under one set of
controls, and a table of their parameters with what differs highlighted.

The ids live in the URL, so a comparison can be reopened and shared. An id
this history does not know, or one with no video yet, is named and left out;
the rest are still compared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from components import compare_player, frame_picker, generation_card, lineage_view, services, video_posters
from components.formatting import clock, credits, model_name, seconds
from components.markdown import literal
from videogen import variants
from videogen.api import Status
from videogen.connection import Connection
from videogen.prompt_diff import summary, to_html, word_diff
from videogen.store import Record, Store
from videogen.text import shorten

MIN_SHOWN, MAX_SHOWN = 2, 4
SCOPE = "compare-videos"
LETTERS = "ABCD"
CHOICES = 200  # the latest finished generations offered in the picker
DIFFERS_COLOR = "rgba(255, 189, 69, 0.25)"
# The frame a step moves by and the sync the player keeps: the simulator's rate, and most vendors'.
FRAME_RATE = 24


def _playable(record: Record, store: Store) -> bool:
    return record.status is Status.COMPLETED and record.video_file(store.videos_dir) is not None


def _ids_from_link() -> list[str]:
    return list(dict.fromkeys(i.strip() for i in st.query_params.get("ids", "").split(",") if i.strip()))


def checked(store: Store, wanted: list[str]) -> list[Record]:
    """The generations of `wanted` that can be played here, in order; each of the others is named and left out."""
    found = {r.id: r for r in store.find(wanted)}
    if unknown := [i for i in wanted if i not in found]:
        st.warning("Not in this history, so left out: " + literal(", ".join(unknown)), icon=":material/link_off:")
    # Signed in, in one's own view: someone else's generations are named and left out, as History does.
    scope = services.owner_scope()
    if theirs := [i for i in wanted if i in found and scope is not None and found[i].owner != scope]:
        st.info(
            "Made by someone else, so left out: "
            + literal(", ".join(generation_card.short_id(i) for i in theirs))
            + ". Turn on **Show the team's generations** in the sidebar to compare them.",
            icon=":material/group:",
        )
        found = {i: r for i, r in found.items() if i not in theirs}
        wanted = [i for i in wanted if i not in theirs]
    if waiting := [found[i] for i in wanted if i in found and not _playable(found[i], store)]:
        st.warning(
            "No video to play yet, so left out: "
            + literal(", ".join(f"{generation_card.short_id(r.id)} ({r.status.value})" for r in waiting)),
            icon=":material/hourglass_top:",
        )
    return [found[i] for i in wanted if i in found and _playable(found[i], store)]


def chosen(store: Store, *, picker: bool = True) -> list[Record]:
    """The generations to compare: the link's, checked and named when unusable, then as picked on the page.

    Without the picker (Blind: its options name each model) the link's first four are compared as they are.
    """
    usable = checked(store, _ids_from_link())
    if len(usable) > MAX_SHOWN:
        swap = "Swap them below." if picker else "Turn Blind off to swap them."
        st.info(
            f"Compare plays up to {MAX_SHOWN} at once: the first {MAX_SHOWN} of these {len(usable)} are shown. " + swap,
            icon=":material/compare:",
        )
    if not picker:
        return usable[:MAX_SHOWN]
    first = [r.id for r in usable[:MAX_SHOWN]]
    finished = {r.id: r for r in store.records(limit=CHOICES, owner=services.owner_scope()) if _playable(r, store)}
    finished |= {r.id: r for r in usable}
    # A new widget for each link: its default is the link's choice, and a pick below rewrites the link.
    ident = hashlib.sha256(json.dumps(first).encode()).hexdigest()[:10]
    picked = st.multiselect(
        "Generations",
        list(finished),
        default=first,
        max_selections=MAX_SHOWN,
        format_func=lambda i: _option(finished[i]),
        key=f"compare-pick-{ident}",
        placeholder="Choose 2 to 4 finished videos",
    )
    if picked != first:
        st.query_params["ids"] = ",".join(picked)
    return [finished[i] for i in picked]


def _option(record: Record) -> str:
    prompt = shorten(" ".join(record.prompt.split()), 51)
    return f"{prompt} · {model_name(record.model)} · {generation_card.short_id(record.id)}"


def videos(records: list[Record], store: Store, *, headings: Sequence[str] | None = None, conn: Connection | None = None) -> None:
    """The clips side by side, each headed by its letter and what sets it apart; one control bar under them.

    `headings` (markdown, one per clip) replaces those headers: Blind's say nothing but the letter.
    With `conn`, each clip offers "Use a frame" (Blind's do not: they would name the model).
    """
    if headings is None:
        differing = variants.varied([r.request for r in records])
        headings = []
        for letter, record in zip(LETTERS, records, strict=False):
            # The prompt goes first and short: the word diffs under the table show the whole of each.
            parts = [f"“{variants.label('prompt', record.prompt)}”"] if "prompt" in differing else []
            parts += [f"{name.replace('_', ' ')} {_show(record.request.get(name))}" for name in sorted(differing - {"prompt"})]
            apart = " · ".join(parts)
            headings.append(f"**{letter}** :gray[{literal(' '.join((apart or model_name(record.model)).split()))}]")
    with st.container(key=SCOPE):
        for heading, column, record in zip(headings, st.columns(len(records)), records, strict=True):
            with column:
                st.markdown(heading)
                if (video := record.video_file(store.videos_dir)) is not None:
                    video_posters.player(video)
                    if conn is not None:
                        frame_picker.button(conn, record, video, key="compare")
                else:  # deleted since it was chosen
                    st.caption(":material/videocam_off: This video is no longer here.")
    compare_player.player(SCOPE, fps=FRAME_RATE)


def _show(value: Any) -> str:
    if value is None:
        return "–"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def table(records: list[Record]) -> pd.DataFrame:
    """One row per parameter, one column per generation (A, B, …), rows that differ first; `differs` marks them."""
    names = list(dict.fromkeys(n for r in records for n in r.request))
    rows = {name.replace("_", " ").capitalize(): [_show(r.request.get(name)) for r in records] for name in names}
    rows["Took"] = [seconds(r.seconds_taken) for r in records]
    rows["Credits"] = [credits(r.credits_used) for r in records]
    rows["Created"] = [clock(r.created_at) for r in records]
    rows["API id"] = [r.id for r in records]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(LETTERS[: len(records)]))
    # Only parameters are highlighted: run time, credits and ids differ anyway and are outcomes, not choices.
    frame["differs"] = (frame.nunique(axis=1) > 1) & frame.index.isin(list(rows)[: len(names)])
    return frame.sort_values("differs", ascending=False, kind="stable")


def parameter_table(records: list[Record]) -> None:
    frame = table(records)
    count = int(frame["differs"].sum())
    st.subheader("Parameters")
    only = st.toggle(f"Only what differs ({count})", key="compare-only-differs", disabled=count == 0)
    shown = frame[frame["differs"]] if only and count else frame
    styled = shown.drop(columns="differs").style.apply(
        lambda row: [f"background-color: {DIFFERS_COLOR}; font-weight: 600" if shown.loc[row.name, "differs"] else ""] * len(row),
        axis=1,
    )
    st.table(styled)
    prompt_diffs(records)


def prompt_diffs(records: list[Record]) -> None:
    """Prompts that differ, each against A's, word by word: added words marked, removed ones struck."""
    first = records[0].prompt
    changed = [(letter, r) for letter, r in zip(LETTERS[1:], records[1:], strict=False) if r.prompt != first]
    if not changed:
        return
    st.caption("Prompts, word by word against A's")
    st.html(lineage_view.DIFF_STYLE)
    for letter, record in changed:
        pieces = word_diff(first, record.prompt)
        st.html(f'<div class="lineage-diff"><b>{letter}</b>  {to_html(pieces)}</div>')
        st.caption(f"{letter}: {summary(pieces)}")
