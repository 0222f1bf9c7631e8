"""History's Prompts view: each distinct prompt, how often it ran, its best rating and its latest video, a page
at a time, with Load to put it back in the Generate form.

Load brings the prompt's latest run's whole request, model and settings with the text, and makes that run the
parent of what the form sends next, as Re-run does. The request is read from the store on the click, so a run
deleted meanwhile is named instead of loaded. The poster opens the latest video's generation in a new tab, as
the table's Video column does.

Prompts come from people: shown with `st.text`. The poster's HTML holds only the generation id, URL-quoted, and
the poster's data URL, both escaped as attributes.
"""

from __future__ import annotations

import hashlib
import html
from urllib.parse import quote

import pandas as pd
import streamlit as st

from components import history_table, prompt_form, session
from components.formatting import clock, model_name
from components.markdown import literal
from videogen import prompt_stats, tiles
from videogen.connection import Connection
from videogen.prompt_stats import PromptStats
from videogen.store import RATINGS, Record
from videogen.text import shorten

#: Characters of a prompt shown in its row; Load brings the whole of it.
PROMPT_SHOWN = 600
POSTER_STYLE = (
    "<style>.prompt-poster{position:relative}.prompt-poster img{width:100%;aspect-ratio:16/9;object-fit:contain;"
    "background:#0e1117;border-radius:.5rem;display:block}"
    ".prompt-poster a:hover img{outline:2px solid var(--primary-color,#ff4b4b)}"
    ".prompt-poster span{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;"
    "font-size:.75rem;opacity:.7}</style>"
)
NO_VIDEO = "No finished video yet"


def show(conn: Connection, frame: pd.DataFrame, selected_ids: list[str], *, search: str = "") -> list[str]:
    """The prompts of `frame` matching `search`, one page of them; returns the selected ids among its rows
    (the detail below shows as in the other views)."""
    summary = prompt_stats.summarise(frame, search=search)
    held = set(frame["id"])
    selected = [i for i in selected_ids if i in held]
    if summary.empty:
        st.info("No prompt matches these filters.", icon=":material/filter_alt:")
        return selected
    page, pages = _page(len(summary), search)
    _pager(len(summary), page, pages, search, where="top")
    shown = prompt_stats.page(summary, page)
    records = {r.id: r for r in conn.store.find([p.video_id for p in shown if p.video_id])}
    st.html(POSTER_STYLE)
    for stats in shown:
        _row(conn, stats, records.get(stats.video_id or ""))
    if pages > 1:
        _pager(len(summary), page, pages, search, where="end")
    return selected


def _page(count: int, search: str) -> tuple[int, int]:
    """The page shown (from 0) and how many there are."""
    pages = max(1, -(-count // prompt_stats.PAGE_SIZE))
    page = min(max(0, session.prompt_list_page(search)), pages - 1)
    session.set_prompt_list_page(page, search)
    return page, pages


def _pager(count: int, page: int, pages: int, search: str, *, where: str) -> None:
    """The count, and Previous and Next when there is more than one page: above the list and, after 25 rows
    of scrolling, below it too (`where`: which of the two, for the keys)."""
    size = prompt_stats.PAGE_SIZE
    counted = f"{count:,} prompt{'s' if count != 1 else ''}"
    if pages > 1:
        counted += f" · page {page + 1:,} of {pages:,} · {page * size + 1:,}–{min(count, (page + 1) * size):,}"
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key=f"prompts-pager-{where}"):
        st.caption(counted)
        if pages > 1:
            st.button(
                "Previous",
                icon=":material/chevron_left:",
                key=f"prompts-previous-{where}",
                disabled=page == 0,
                on_click=session.set_prompt_list_page,
                args=(page - 1, search),
            )
            st.button(
                "Next",
                icon=":material/chevron_right:",
                key=f"prompts-next-{where}",
                disabled=page == pages - 1,
                on_click=session.set_prompt_list_page,
                args=(page + 1, search),
            )


def _row(conn: Connection, stats: PromptStats, video: Record | None) -> None:
    ident = hashlib.sha256(stats.latest_id.encode()).hexdigest()[:12]
    with st.container(border=True, key=f"prompt-{ident}"):
        poster_col, text_col, load_col = st.columns([1.4, 6, 1], vertical_alignment="center")
        with poster_col:
            st.html(_poster(conn, video))
        with text_col:
            st.text(shorten(stats.prompt, PROMPT_SHOWN))
            st.caption(_facts(stats))
        with load_col:
            st.button(
                "Load",
                icon=":material/edit_note:",
                key=f"prompt-load-{ident}",
                on_click=_load,
                args=(conn, stats.latest_id),
                help="Its latest run's model and settings in the Generate form, to edit and generate again",
                width="stretch",
            )


def _poster(conn: Connection, video: Record | None) -> str:
    """The latest finished video's poster, a link to its generation; the placeholder when none finished."""
    file = video.video_file(conn.store.videos_dir) if video is not None else None
    images = tiles.tile_images(file, portrait=video is not None and video.request.get("aspect_ratio") == "9:16")
    img = f'<img src="{html.escape(images.poster)}" alt="">'
    if video is None:
        return f'<div class="prompt-poster">{img}<span>{NO_VIDEO}</span></div>'
    href = html.escape(history_table.VIDEO_LINK_PREFIX + quote(video.id, safe=""))
    return f'<div class="prompt-poster"><a href="{href}" target="_blank" title="Open its latest video">{img}</a></div>'


def _facts(stats: PromptStats) -> str:
    """Runs, models, best rating and last run on one caption line (markdown: every value escaped)."""
    runs = f"**{stats.runs:,} run{'s' if stats.runs != 1 else ''}**"
    models = ", ".join(literal(model_name(m)) for m in stats.models)
    best = RATINGS.stop - 1
    rating = "not rated" if stats.best_rating is None else "best " + "★" * stats.best_rating + "☆" * (best - stats.best_rating)
    return " · ".join([runs, models, rating, f"last run {literal(clock(stats.latest_at))}"])


def _load(conn: Connection, generation_id: str) -> None:
    """Load: a button callback, before the run that shows Generate."""
    record = conn.store.get(generation_id)
    if record is None:
        st.toast("That generation is no longer in the history.", icon=":material/error:")
        return
    prompt_form.rerun_in_form(record.request, record.id)
