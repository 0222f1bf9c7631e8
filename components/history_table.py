"""The History page's pieces: filters, the table, exports, and the selected generation's details.

The selected generation lives in the URL (`?gen=<id>`), so a selection survives
a reload and can be shared. The table's rows shift when generations are added
or filters change, so the selection is kept by id and handed back to the table
as its default whenever the rows change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from components import cut_editor, frame_picker, generation_card, lineage_view, prompt_form, ratings, services, session, video_posters
from components.formatting import STATUS_LOOK, clock, cost, credits, seconds
from components.judge_link import judge_link
from components.markdown import literal
from videogen import history, lineage, spend
from videogen.api import Status
from videogen.connection import Connection
from videogen.store import RATINGS, Rating, Record, Store

# Pixel widths chosen so every column fits beside the sidebar at 1280 px; the prompt cell shows the rest on hover.
COLUMN_CONFIG = {
    "starred": st.column_config.CheckboxColumn("★", width=28, help="Starred"),
    "created": st.column_config.DatetimeColumn("Created", format="MMM D, HH:mm", width=90),
    "status": st.column_config.TextColumn("Status", width=75),
    "model": st.column_config.TextColumn("Model", width=82),
    "prompt": st.column_config.TextColumn("Prompt", width=86),
    "aspect_ratio": st.column_config.TextColumn("Ratio", width=50),
    "duration": st.column_config.NumberColumn("Duration", format="%d s", width=56),
    "seed": st.column_config.NumberColumn("Seed", format="%d", width=50),
    "seconds_taken": st.column_config.NumberColumn("Took", format="%.0f s", width=46),
    "credits": st.column_config.NumberColumn("Credits", format="compact", width=50),
    "usd": st.column_config.NumberColumn("$", format="dollar", width=50, help="Dollars: 2,000,000 credits to the dollar"),
    "video": st.column_config.LinkColumn("Video", display_text="Open", width=50),
    "owner": st.column_config.TextColumn("Made by", width=110),
    "rating": st.column_config.NumberColumn("Rating", format="%d ★", width=46, help="Your rating, 1 to 5 stars"),
    "team_rating": st.column_config.NumberColumn("Team", format="%.1f ★", width=46, help="The team's average rating"),
    "rejected": st.column_config.CheckboxColumn("✕", width=26, help="Rejected by you"),
}
# With sign-in off everyone is one person, so the team's average would only repeat the rating.
VISIBLE = [c for c in history.COLUMNS if c not in ("id", "owner", "team_rating")]
# Signed in: one's own generations, which the rest of the team may have rated too.
SIGNED_IN_VISIBLE = [c for c in history.COLUMNS if c not in ("id", "owner")]
# The team's view: who made each, in the room of the seed and the time taken (both still in the details).
TEAM_VISIBLE = [c for c in SIGNED_IN_VISIBLE if c not in ("seed", "seconds_taken")]
TEAM_VISIBLE.insert(TEAM_VISIBLE.index("model"), "owner")


#: The video column links back to this page with the generation selected; the app plays its own copy there.
VIDEO_LINK_PREFIX = "history?gen="


def filters(df: pd.DataFrame) -> dict:
    """The filter widgets; the model, ratio and duration choices are the values this history holds.
    Rejected generations are hidden until *Hide rejected* is turned off."""
    status_col, model_col, ratio_col, duration_col, search_col = st.columns([1.3, 1.5, 1, 1, 1.5])
    ratios = sorted(r for r in df["aspect_ratio"].dropna().unique() if isinstance(r, str)) or ["16:9", "9:16"]
    durations = sorted(int(d) for d in df["duration"].dropna().unique()) or [5, 6, 7, 8]
    return {
        "statuses": status_col.multiselect(
            "Status",
            [s.value for s in Status],
            key="hist_status",
            placeholder="Any status",
            format_func=lambda v: STATUS_LOOK[Status(v)][0],
        ),
        "models": model_col.multiselect("Model", sorted(df["model"].unique()), key="hist_model", placeholder="Any model"),
        "aspect_ratios": ratio_col.multiselect("Aspect ratio", ratios, key="hist_ratio", placeholder="Any"),
        "durations": duration_col.multiselect("Duration (s)", durations, key="hist_duration", placeholder="Any"),
        "search": search_col.text_input("Search prompts", key="hist_search", placeholder="Words in the prompt"),
        **_triage_filters(),
    }


def _triage_filters() -> dict:
    """Starred only, Hide rejected (on at first: triage sets the rejected aside) and the least rating to show."""
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        starred = st.toggle("Starred only", key="hist_starred")
        hide_rejected = st.toggle(
            "Hide rejected", value=True, key=session.HISTORY_HIDE_REJECTED, help="Rejected generations are kept; turn this off to see them."
        )
        with st.container(horizontal=True, gap="small", vertical_alignment="center", width="content"):
            st.caption("Rated at least")  # beside the stars: a label above them would stand out of the row
            min_rating = st.segmented_control(
                "Rated at least",
                list(RATINGS),
                format_func=lambda n: f"{n} ★",
                key=session.HISTORY_MIN_RATING,
                label_visibility="collapsed",
                help="Only generations you rated at least this; unrated ones are left out.",
            )
    return {"starred": starred, "hide_rejected": hide_rejected, "min_rating": min_rating}


SPEND_PANEL = "history-spend"


def spend_panel(df: pd.DataFrame) -> None:
    """Credits of the rows shown, per day and per model: a chart, a table, and a CSV. Drawn only while open:
    a closed panel's chart would still be sent, and its charting code loaded, on every History run."""
    rows = f"these {len(df):,} generations" if len(df) != 1 else "this generation"
    credits = float(df["credits"].sum()) if len(df) else 0.0  # NaN (no cost reported) is skipped, as in the totals
    panel = st.expander(f":material/payments: Spend of {rows}: {literal(spend.money(credits))}", key=SPEND_PANEL, on_change="rerun")
    if not panel.open:
        return
    totals = spend.totals(df)
    with panel:
        if totals.empty:
            st.caption("None of them has reported its credits yet.")
            return
        st.bar_chart(totals, x="day", y="credits", color="model", x_label="Day (UTC)", y_label="Credits", height=240)
        per_model = totals.groupby("model", as_index=False)[["credits", "generations"]].sum().sort_values("credits", ascending=False)
        # A plain table: the History table stays the page's one data grid (and the tests' one canvas to click).
        per_model = per_model.assign(usd=per_model["credits"] / spend.CREDITS_PER_USD)
        st.table(
            per_model.rename(columns={"model": "Model", "credits": "Credits", "usd": "Dollars", "generations": "Generations"})
            .style.format({"Credits": "{:,.0f}", "Dollars": spend.dollars})
            .hide(axis="index")
        )
        st.download_button(
            "Export spend CSV",
            data=lambda: totals.to_csv(index=False).encode("utf-8"),
            file_name="video-spend.csv",
            mime="text/csv",
            icon=":material/table_view:",
            on_click="ignore",
            key="export-spend",
        )


def _save_note(store: Store, generation_id: str) -> None:
    # The store checks the maker too, as for a delete: a disabled field is only a field.
    store.set_note(generation_id, session.value(f"note-{generation_id}", "").strip(), by=services.signed_in_user() or None)


def exports(store: Store, ids: list[str]) -> None:
    """CSV and JSON of the rows shown, with this person's ratings beside the team's. Built only when a button
    is pressed, not on every run."""
    user = services.signed_in_user()  # read now: the export is built outside the script's run
    with st.container(horizontal=True, gap="small", horizontal_alignment="right"):
        st.download_button(
            "Export CSV",
            data=partial(_export, history.to_csv, store, ids, user),
            file_name="video-history.csv",
            mime="text/csv",
            icon=":material/table_view:",
            on_click="ignore",
            disabled=not ids,
            key="export-csv",
        )
        st.download_button(
            "Export JSON",
            data=partial(_export, history.to_json, store, ids, user),
            file_name="video-history.json",
            mime="application/json",
            icon=":material/data_object:",
            on_click="ignore",
            disabled=not ids,
            key="export-json",
        )


def _export(write: Callable[..., bytes], store: Store, ids: list[str], by: str) -> bytes:
    return write(store.find(ids), ratings=store.ratings(ids, by=by))


def table(df: pd.DataFrame, selected_ids: list[str], version: tuple, *, linked: str | None = None, owners: bool = False) -> list[str]:
    """Show the rows; return the ids of the selected rows (several can be, for Compare and a demo reel).

    `linked`: a generation a link just named, which replaces whatever was selected. `owners`: show who made
    each (the team's view, with sign-in on).
    """
    ids = df["id"].tolist()
    default_rows = [ids.index(i) for i in selected_ids if i in ids]
    if owners:  # the identity stays the key (filters, exports); the column shows who that is
        names = {owner: services.owner_label(owner) for owner in df["owner"].unique()}
        df = df.assign(owner=df["owner"].map(names))
    # A new key whenever the rows may have moved, so the selection is re-applied by id. (Not when only the
    # selection changes: the table would be drawn anew under the pointer between two clicks.)
    ident = hashlib.sha256(json.dumps([version, ids[:1], len(ids), linked]).encode()).hexdigest()[:12]
    event = st.dataframe(
        df,
        column_order=_column_order(owners, rejected=bool(df["rejected"].any())),
        column_config=COLUMN_CONFIG,
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        selection_default={"selection": {"rows": default_rows}},
        key=f"history-{ident}",
        height=min(36 * (len(df) + 1) + 3, 560),
        placeholder="–",
    )
    return [ids[row] for row in event.selection.rows]


def _column_order(owners: bool, *, rejected: bool) -> list[str]:
    """The columns shown; the rejected one only when a row shown is (*Hide rejected* off), as the table has
    no room to spare beside the sidebar."""
    columns = TEAM_VISIBLE if owners else SIGNED_IN_VISIBLE if services.sign_in_configured() else VISIBLE
    return columns if rejected else [c for c in columns if c != "rejected"]


def selection_actions(conn: Connection, records: list[Record]) -> None:
    """For the selected rows: Compare (2 to 4 finished videos) and a demo reel of the finished ones."""
    playable = [r for r in records if r.status is Status.COMPLETED and generation_card.video_file(r, conn) is not None]
    with st.container(horizontal=True, vertical_alignment="center", key="history-selection"):
        st.caption(f"{len(records)} selected · {len(playable)} with a video")
        st.space("stretch")
        generation_card.compare_link(playable)
        judge_link(playable)
        generation_card.reel_download(conn, playable, key="history-reel")
        cut_editor.stitch_link(records)


def details(conn: Connection, record: Record, rating: Rating | None = None) -> None:
    """The selected generation: its video, request, actions and, once finished, its rating (`rating`, when the
    page has read it already)."""
    if record.status is Status.COMPLETED and rating is None:
        rating = ratings.of(conn, [record])[record.id]
    with st.container(border=True, key="history-detail"):
        label, color, icon = STATUS_LOOK[record.status]
        with st.container(horizontal=True, gap="small"):
            st.badge(label, icon=icon, color=color)
            if rating is not None and rating.rejected:
                st.badge("Rejected", icon=":material/block:", color="red")
        video_col, info_col = st.columns([3, 2])
        with video_col:
            video = generation_card.video_file(record, conn)
            if video is not None:
                video_posters.player(video, width=320 if record.request.get("aspect_ratio") == "9:16" else "stretch")
            elif record.video_path:
                generation_card.no_local_copy(record)
            elif record.status.is_pending:
                st.caption(":material/hourglass_top: Still generating.")
            elif record.video_error or record.error:
                st.error("No video for this generation.", icon=":material/videocam_off:")
                st.text(record.video_error or record.error)
        with info_col:
            st.text(record.prompt)
            st.caption(
                f"Created {clock(record.created_at)} · took {seconds(record.seconds_taken)} · {literal(cost(record) or credits(None))}"
            )
            if rating is not None:
                ratings.control(conn, record, rating, key="detail")
            if record.parent_id:
                parent = services.as_code(generation_card.short_id(record.parent_id))
                if (above := conn.store.get(record.parent_id)) is None:
                    st.caption(f":material/link_off: A version of generation {parent}, since deleted")
                elif (changed := lineage.version_changes(record, above)) == ("new seed",):
                    st.caption(f":material/shuffle: A new seed for generation {parent}")
                else:
                    st.caption(f":material/account_tree: A version of generation {parent}: {literal(', '.join(changed))}")
            mine = services.may_change(record)
            maker = services.as_code(services.owner_label(record.owner)) if record.owner else "the person who made it"
            st.text_input(
                "Note",
                value=record.note,
                key=f"note-{record.id}",
                placeholder="What to remember about this one",
                on_change=_save_note,
                args=(conn.store, record.id),
                disabled=not mine,
                help=None if mine else f"Only {maker} can change its note.",
            )
            st.caption("API id")
            st.code(record.id, language=None)
            st.caption("Request body")
            st.json(record.request, expanded=True)
        if lineage_view.has_lineage(conn, record):
            with st.expander("Lineage", icon=":material/account_tree:"):
                lineage_view.show(conn, record, key="detail-lineage")
        with st.container(horizontal=True, gap="small"):
            st.button(
                "Re-run",
                icon=":material/replay:",
                on_click=prompt_form.rerun_in_form,
                args=(record.request, record.id),
                key="detail-rerun",
            )
            if video is not None:
                st.download_button(
                    "Download",
                    data=partial(video.read_bytes),
                    file_name=generation_card.download_name(record.id),
                    mime="video/mp4",
                    icon=":material/download:",
                    on_click="ignore",
                    key="detail-download",
                )
            if record.status is Status.COMPLETED:
                generation_card.actions(conn, record, key="detail")
                frame_picker.button(conn, record, video, key="detail")
                cut_editor.chain_link(conn, record, loop=True)
            user = services.signed_in_user()
            why_not = (
                "Still running: it can be deleted once it finishes."
                if record.status.is_pending
                else f"Only {maker} can delete it."
                if not mine
                else None
            )
            if st.button("Delete", icon=":material/delete:", key="detail-delete", disabled=bool(why_not), help=why_not):
                confirm_delete(conn, record, user)


@st.dialog("Delete this generation?")
def confirm_delete(conn: Connection, record: Record, user: str) -> None:
    st.text(record.prompt)
    st.write("It is removed from the history and its saved video is deleted. This cannot be undone.")
    delete_col, cancel_col = st.columns(2)
    if delete_col.button("Delete", type="primary", icon=":material/delete:", key="confirm-delete", width="stretch"):
        # The store checks the owner too: a button is only a button.
        if not conn.store.delete(record.id, by=user or None):
            st.error("Only the person who made it can delete it.", icon=":material/block:")
            return
        st.query_params.pop("gen", None)
        st.rerun()
    if cancel_col.button("Cancel", key="cancel-delete", width="stretch"):
        st.rerun()
