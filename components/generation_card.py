"""Generations as cards (prompt, parameters, status and, when done, the video), and the grid of them.

User text (the prompt, the negative prompt) and server text (error messages)
are shown with `st.text`, which never interprets markdown or HTML.
"""

from __future__ import annotations

import re
import time
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import (
    code_snippets,
    cut_editor,
    frame_picker,
    lineage_view,
    prompt_form,
    ratings,
    services,
    session,
    submit_actions,
    video_posters,
)
from components.formatting import STATUS_LOOK, clock, cost, parameters, seconds
from components.judge_link import judge_link
from components.markdown import literal
from videogen import media, reel, variants
from videogen.api import Status
from videogen.connection import Connection
from videogen.ids import unique_name
from videogen.polling import MIN_SAMPLES, PollPlan, is_allowed_video_url
from videogen.posters import poster_files
from videogen.store import Rating, Record, Store

CARD_TICK_SECONDS = 2.0
CARDS_SHOWN = 12


def draw(record: Record, poll_plan: PollPlan, *, key: str = "card", conn: Connection | None = None, rating: Rating | None = None) -> None:
    """A card's contents, drawn into the card's container.

    With `conn`, a finished card also offers its actions: a rating and Reject, a star, a new seed, its request
    as code. `rating`: its rating, when the caller read those of many cards at once; otherwise read here.
    """
    if conn is not None and record.status is Status.COMPLETED and rating is None:
        rating = ratings.of(conn, [record])[record.id]
    st.markdown(_header(record, poll_plan, rejected=rating is not None and rating.rejected))
    if record.parent_id:
        st.caption(f":material/shuffle: A new seed for generation {services.as_code(short_id(record.parent_id))}")
    st.text(record.prompt)
    if record.note:
        st.caption(":material/sticky_note_2: Note")
        st.text(record.note)
    if record.request.get("negative_prompt"):
        st.text(f"Avoid: {record.request['negative_prompt']}")
    if record.status is Status.COMPLETED:
        _finished(record, key, conn, rating)
    elif record.status in (Status.FAILED, Status.LOST):
        _failed(record, key)


def _header(record: Record, poll_plan: PollPlan, *, rejected: bool = False) -> str:
    """Status badge, timing and parameters on one line. Only app-made text goes here: it is markdown."""
    label, color, icon = STATUS_LOOK[record.status]
    # A rejected card stays on the page (nothing is lost), marked so that it reads as set aside.
    badges = f":{color}-badge[{icon} {label}]" + (" :red-badge[:material/block: Rejected]" if rejected else "")
    if record.status.is_pending:
        now = time.time()
        remaining = poll_plan.remaining(now)
        if poll_plan.waiting:
            eta = f"waiting on the server; about {seconds(remaining)} once it starts"
        elif remaining > 0:
            eta = f"about {seconds(remaining)} left"
        else:
            eta = "taking longer than usual"
        if poll_plan.estimate.is_guess and remaining > 0:
            # Until this history has seen the model finish a few times, the figure is the catalog's estimate.
            eta += f" (a guess until {MIN_SAMPLES} runs of this model finish here)"
        detail = [f"{seconds(now - record.created_at)} elapsed", eta]
        if record.not_found_since is not None:
            # The API has answered 404 for generations that completed later: a 404 alone is no loss.
            detail.append(f"the server does not know this id yet (404 for {seconds(now - record.not_found_since)}); still checking")
    else:
        took = f"took {seconds(record.seconds_taken)}" if record.seconds_taken is not None else ""
        detail = [p for p in (clock(record.created_at), took, literal(cost(record))) if p]
    return f"{badges} :gray[{' · '.join([*detail, parameters(record.request)])}]"


def video_file(record: Record, conn: Connection | None = None) -> Path | None:
    """The app's own copy of the video, inside the store's videos folder (st.video serves whatever file it is given)."""
    return record.video_file(conn.store.videos_dir if conn else services.data_dir() / "videos")


def _finished(record: Record, key: str, conn: Connection | None = None, rating: Rating | None = None) -> None:
    video = video_file(record, conn)
    # Portrait clips would be very tall at full card width.
    width = 240 if record.request.get("aspect_ratio") == "9:16" else "stretch"
    if video is not None:
        video_posters.player(video, width=width)
    elif record.video_path:
        no_local_copy(record)
    elif record.video_error:
        st.error("The video could not be fetched.", icon=":material/videocam_off:")
        st.text(record.video_error)
    elif (link := media.browser_link(record.video_url, "video")) is not None:
        # Not copied yet: the CDN link plays meanwhile, loaded by the browser. Only a checked https link:
        # a loopback one would not work in another machine's browser, and a path would be read from disk.
        st.video(link, width=width)
    else:
        st.caption(":material/downloading: Saving the video…")
    if conn is not None and rating is not None:
        ratings.control(conn, record, rating, key=key)
    with st.container(horizontal=True, gap="small"):
        if video is not None:
            st.download_button(
                "Download",
                data=partial(video.read_bytes),
                file_name=download_name(record.id),
                mime="video/mp4",
                icon=":material/download:",
                key=f"{key}-download-{record.id}",
                on_click="ignore",
            )
        _rerun_button(record, key)
        if conn is not None:
            actions(conn, record, key=key)
            frame_picker.button(conn, record, video, key=key)
            cut_editor.chain_link(conn, record)
            if lineage_view.has_lineage(conn, record):
                with st.popover("Lineage", icon=":material/account_tree:", help="The versions this prompt went through"):
                    lineage_view.show(conn, record, key=f"{key}-lineage-{record.id}")


def actions(conn: Connection, record: Record, *, key: str) -> None:
    """Star, a new seed, and the request as code: for a card's button row and History's details."""
    mine = services.may_change(record)
    maker = services.as_code(services.owner_label(record.owner)) if record.owner else "the person who made it"
    st.button(
        "Starred" if record.starred else "Star",
        icon=":material/star:",
        key=f"{key}-star-{record.id}",
        type="primary" if record.starred else "secondary",
        on_click=_star,
        args=(conn, record.id, not record.starred),
        disabled=not mine,
        help="Starred generations can be shown alone in History." if mine else f"Only {maker} can star it.",
    )
    if variants.new_seed_request(record.request) is not None:
        st.button(
            "Vary seed",
            icon=":material/shuffle:",
            key=f"{key}-vary-{record.id}",
            on_click=submit_actions.vary_seed,
            args=(conn, record),
            help="The same request with a new random seed: one more paid generation.",
        )
    code_snippets.popover(record, base_url=conn.base_url, data_dir=conn.store.data_dir, key=key)


def _star(conn: Connection, generation_id: str, starred: bool) -> None:
    # The store checks the maker too: a disabled button is only a button.
    conn.store.set_starred(generation_id, starred, by=services.signed_in_user() or None)


def download_name(generation_id: str) -> str:
    """The name a browser saves a video as: the id's first part ("<uuid>" of "<uuid>:<model>"), in characters
    every OS takes, and never with a leading "-" (real ids can start with one; a command line would read an option)."""
    # Not `ids.unique_name`: this name is for a person's downloads folder, so it keeps the id as they would
    # read it, without a hash, and the browser numbers two files of one name.
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", generation_id.split(":")[0]).strip("_.-")
    return f"{readable or 'video'}.mp4"


def short_id(generation_id: str) -> str:
    return generation_id.split(":")[0][:8]


def _failed(record: Record, key: str) -> None:
    if record.status is Status.LOST:
        st.warning("The server no longer has this generation.", icon=":material/help:")
    else:
        st.error("The generation failed.", icon=":material/error:")
    st.text(record.error or "The server gave no reason.")
    _rerun_button(record, key)


def _rerun_button(record: Record, key: str) -> None:
    st.button(
        "Re-run",
        icon=":material/replay:",
        key=f"{key}-rerun-{record.id}",
        on_click=prompt_form.rerun_in_form,
        args=(record.request, record.id),
        help="Load these parameters into the form",
    )


def no_local_copy(record: Record) -> None:
    """Saved, but not where this process can see it: another app process on the same database wrote it to a
    data directory this one does not share. Say so, and offer the API's link, which works while it lives."""
    st.warning(
        "No copy of this video on this server: another app process saved it to a data folder this one "
        "does not share (every process needs the same PLAYGROUND_DATA_DIR volume).",
        icon=":material/folder_off:",
    )
    if is_allowed_video_url(record.video_url):
        st.link_button(
            "Open the API's link", record.video_url, icon=":material/open_in_new:", help="The API keeps its link for a limited time only."
        )


def card_grid(conn: Connection) -> None:
    """This tab's generations and everything still running, newest first, then the history's most recent ones.

    A reload (or a visit to Compare and back) starts a new tab session; the
    recent ones keep the finished videos on the page (signed in: the person's
    own; otherwise this history's). A batch is one group. Every card gets its
    place (a container) in the page, in order. Finished cards are drawn once per
    page run. Running cards are drawn by a fragment that redraws just them every
    couple of seconds, in their own places: the form and the finished cards (a
    playing video among them) are not touched, and nothing ticks once nothing runs.
    """
    shown = session.cards_shown(CARDS_SHOWN)
    mine = session.my_generations()
    scope = services.owner_scope()
    this_tab = {r.id: r for r in conn.store.find(mine[-shown:])}
    for record in conn.pending(limit=shown, owner=scope):
        this_tab.setdefault(record.id, record)
    first = sorted(this_tab.values(), key=lambda r: r.created_at, reverse=True)[:shown]
    # A batch is drawn whole where its newest card falls, so one begun in this tab stays out of the rest.
    batches = {r.batch_id for r in first if r.batch_id}
    # One more than fits tells whether there is anything older to show.
    recent = [
        r
        for r in conn.store.records(limit=shown + len(this_tab) + 1, owner=scope)
        if r.id not in this_tab and (r.batch_id is None or r.batch_id not in batches)
    ]
    earlier = recent[: shown - len(first)]
    if not first and not earlier:
        st.caption(":material/movie: Your videos appear here. Generations keep running if you switch pages or close the tab.")
        st.page_link("pages/history.py", label="Everything generated so far is in History", icon=":material/history:")
        return
    running: dict[str, DeltaGenerator] = {}
    headers: dict[str, DeltaGenerator] = {}  # of batches still running: redrawn with their cards
    _place_groups(conn, first, running, headers)
    if earlier:
        if first:
            st.caption(":material/history: Earlier in this history")
        _place_groups(conn, earlier, running, headers)
    if running:
        _running_cards(conn, running, headers)
    if len(this_tab) > len(first) or len(recent) > len(earlier):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button(
                f"Show {CARDS_SHOWN} older", on_click=session.set_cards_shown, args=(shown + CARDS_SHOWN,), icon=":material/expand_more:"
            )
            st.page_link("pages/history.py", label="All of them in History", icon=":material/history:")


def _place_groups(conn: Connection, records: list[Record], running: dict[str, DeltaGenerator], headers: dict[str, DeltaGenerator]) -> None:
    for batch_id, group in _groups(conn, records):
        if batch_id is None:
            _place(conn, group, running)
            continue
        with st.container(border=True, key=f"batch-{unique_name(batch_id)}"):
            if any(_still_changing(r, conn) for r in group):
                headers[batch_id] = st.empty()
            else:
                batch_header(conn, group)
            _place(conn, group, running)


def _groups(conn: Connection, records: list[Record]) -> list[tuple[str | None, list[Record]]]:
    """Runs of single generations, and each batch whole and in the order it was sent, where its newest card falls."""
    groups: list[tuple[str | None, list[Record]]] = []
    seen: set[str] = set()
    for record in records:
        if record.batch_id is None:
            if groups and groups[-1][0] is None:
                groups[-1][1].append(record)
            else:
                groups.append((None, [record]))
        elif record.batch_id not in seen:
            seen.add(record.batch_id)
            groups.append((record.batch_id, conn.store.batch(record.batch_id)))
    return groups


def _place(conn: Connection, records: list[Record], running: dict[str, DeltaGenerator]) -> None:
    rated = ratings.of(conn, [r for r in records if r.status is Status.COMPLETED and not _still_changing(r, conn)])
    for start in range(0, len(records), 2):
        for column, record in zip(st.columns(2), records[start : start + 2]):
            place = column.container(border=True, key=f"card-{unique_name(record.id)}")
            if _still_changing(record, conn):
                running[record.id] = place
            else:
                with place:
                    draw(record, conn.poll_plan(record), conn=conn, rating=rated.get(record.id))


def _still_changing(record: Record, conn: Connection | None = None) -> bool:
    # A finished generation whose video is still being saved changes once more, when the file lands, and
    # again when its poster does; nothing else reruns the page then (nothing is pending), so its card keeps
    # refreshing until both have.
    if record.status.is_pending or record.needs_download:
        return True
    video = video_file(record, conn) if record.status is Status.COMPLETED else None
    return video is not None and not poster_files(video).settled()


def batch_header(conn: Connection, batch: list[Record]) -> None:
    """What the batch varies, how far it is, and its actions: Compare and a demo reel of the finished ones."""
    varied = sorted(variants.varied([r.request for r in batch]))
    ready = [r for r in batch if r.status is Status.COMPLETED and video_file(r, conn) is not None]
    what = literal(", ".join(f.replace("_", " ") for f in varied) or "nothing")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"**:material/view_module: Batch of {len(batch)}** :gray[· varying {what} · {len(ready)} ready]")
        st.space("stretch")
        compare_link(ready)
        if "model" in varied:  # a Models batch: its votes rank the models
            judge_link(ready)
        reel_download(conn, ready, key=f"reel-{batch[0].batch_id}")


def reel_download(conn: Connection, records: list[Record], *, key: str) -> None:
    """A zip of the finished videos with an offline index.html; built only when clicked, not on every run."""
    about = "The videos with their prompts and settings, as a page that plays offline." if records else "Needs a finished video."
    # Only what fits is sized here (file sizes, no reading): the zip itself is built on the click.
    if records and (full := reel.contents(records, conn.store.data_dir)).left_out:
        about += (
            f" One reel holds at most {full.limits.describe()}: {len(full.items)} of these fit, and the page "
            f"in the zip names the {len(full.left_out)} left out."
        )
    st.download_button(
        "Download demo reel",
        data=partial(_reel, conn.store, records, services.signed_in_user()),
        file_name=reel.file_name(),
        mime="application/zip",
        icon=":material/movie:",
        on_click="ignore",
        key=key,
        disabled=not records,
        help=about,
    )


def _reel(store: Store, records: list[Record], by: str) -> bytes:
    # Read on the click, as the zip is built: each video's entry shows the ratings as they are then.
    return reel.build(records, store.data_dir, ratings=store.ratings([r.id for r in records], by=by))


def compare_link(records: list[Record]) -> None:
    """`Open in Compare` for finished generations: enabled from 2 of them; Compare shows up to 4 at once."""
    ids = [r.id for r in records]
    st.page_link(
        "pages/compare.py",
        label="Open in Compare",
        icon=":material/compare:",
        query_params={"ids": ",".join(ids)},
        disabled=len(ids) < 2,
        help="Play them side by side, in sync." if len(ids) >= 2 else "Needs two finished videos.",
    )


def _running_cards(conn: Connection, places: dict[str, DeltaGenerator], headers: dict[str, DeltaGenerator]) -> None:
    @st.fragment(run_every=CARD_TICK_SECONDS)
    def refresh() -> None:
        found = conn.store.find(list(places))
        rated = ratings.of(conn, [r for r in found if r.status is Status.COMPLETED])
        for record in found:
            with places[record.id]:
                draw(record, conn.poll_plan(record), conn=conn, rating=rated.get(record.id))
        # A batch's count of ready videos, its Compare link and its reel change as its cards finish.
        for batch_id, header in headers.items():
            with header.container():
                batch_header(conn, conn.store.batch(batch_id))
        if not any(_still_changing(r, conn) for r in found):
            # All settled: one full run draws them as finished cards, gives their players their posters
            # (components.video_posters) and ends this ticking.
            st.rerun(scope="app")

    refresh()
