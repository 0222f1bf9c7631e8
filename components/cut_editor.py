"""The Cut page's parts: a chain or a selection as shots in order (reorder, drop, trim to the frame), the
stitch, the cut it made, and loops of it for slides.

The shots come from the address: `?chain=<id>` is the chain that generation is in (each shot started from
a frame of the one before, `lineage.chain`), `?ids=a,b,c` any finished videos in that order, `?cut=<id>`
a cut made before. The edit (order, drops, trims) is this tab's draft until Stitch; the cut is recorded in
the store with its recipe, and its file is in the videos folder like a generation's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import partial
from pathlib import Path

import streamlit as st

from components import services, session
from components.formatting import clock, model_name
from components.markdown import literal
from videogen import cuts, frames, lineage, loops, reel, tiles
from videogen.api import Status
from videogen.connection import Connection
from videogen.recipe import Recipe
from videogen.store import Cut, Record, Store
from videogen.text import shorten

CUTS_DIR = "cuts"
LOOPS_DIR = "loops"
MOST_SHOTS = 24
LAST_CUT = "cut_last"  # the cut this tab made or opened last, by id


@dataclass(frozen=True)
class Take:
    """One shot of the draft: a generation and its trim (None: the clip's own start or end)."""

    uid: int  # its place when the draft was made: widget keys follow a shot as it moves
    id: str
    in_s: float | None = None
    out_s: float | None = None


def source() -> tuple[str, list[str]] | None:
    """What the address asks for: ("chain", [id]), ("ids", [...]) or ("cut", [id]); None for nothing."""
    params = st.query_params
    if chain := params.get("chain"):
        return "chain", [chain]
    if cut_id := params.get("cut"):
        return "cut", [cut_id]
    if ids := params.get("ids"):
        return "ids", [i for i in dict.fromkeys(part.strip() for part in ids.split(",")) if i][:MOST_SHOTS]
    return None


def shot_ids(store: Store, kind: str, ids: list[str]) -> list[str]:
    if kind == "chain":
        return [r.id for r in lineage.chain(store, ids[0])]
    return ids


def _draft_key(kind: str, ids: list[str]) -> str:
    return "cut_draft_" + hashlib.sha256(f"{kind}:{','.join(ids)}".encode()).hexdigest()[:12]


def draft(kind: str, ids: list[str], wanted: list[str]) -> tuple[str, list[Take]]:
    key = _draft_key(kind, ids)
    takes = session.value(key)
    if takes is None:
        takes = [Take(uid, gen_id) for uid, gen_id in enumerate(wanted)]
        session.assign(key, takes)
    return key, takes


def editor(conn: Connection, key: str, takes: list[Take]) -> list[tuple[Take, Record, Path]] | None:
    """The shots with their posters and trims; returns the ones that can go in a cut, or None while any cannot."""
    found = {r.id: r for r in conn.store.find([t.id for t in takes])}
    unusable: list[str] = []
    usable: list[tuple[Take, Record, Path]] = []
    for place, take in enumerate(takes):
        record = found.get(take.id)
        video = record.video_file(conn.store.videos_dir) if record and record.status is Status.COMPLETED else None
        with st.container(border=True, key=f"cut-shot-{take.uid}"):
            poster_col, text_col, trim_col, move_col = st.columns([2, 5, 4, 2], vertical_alignment="center")
            with poster_col:
                portrait = bool(record and record.request.get("aspect_ratio") == "9:16")
                st.image(tiles.tile_images(video, portrait=portrait).poster, width="stretch")
            with text_col:
                st.markdown(f"**Shot {place + 1}**" + (f" · {model_name(record.model)}" if record else ""))
                if record is None:
                    st.caption(f":material/link_off: `{literal(take.id)}` is no longer in the history.")
                else:
                    st.text(shorten(" ".join(record.prompt.split()), 140))
                    if lineage.is_frame(record.origin):
                        frame, at_s = int(record.origin.get("frame", 0)) + 1, float(record.origin.get("at_s", 0))
                        st.caption(f":material/photo_frame: starts from frame {frame} ({at_s:.2f} s) of the shot before")
            with trim_col:
                if video is None:
                    unusable.append(take.id)
                    st.caption(":material/videocam_off: No local copy of this video here: it cannot go in a cut.")
                else:
                    trimmed = _trim(take, video)
                    if trimmed is not None:
                        usable.append((trimmed, record, video))
                        if trimmed != take:
                            takes[place] = trimmed
                    else:
                        unusable.append(take.id)
            with move_col, st.container(horizontal=True, gap="small"):
                st.button(
                    "",
                    icon=":material/arrow_upward:",
                    key=f"cut-up-{take.uid}",
                    on_click=_move,
                    args=(key, place, -1),
                    disabled=place == 0,
                    help="Earlier",
                )
                st.button(
                    "",
                    icon=":material/arrow_downward:",
                    key=f"cut-down-{take.uid}",
                    on_click=_move,
                    args=(key, place, 1),
                    disabled=place == len(takes) - 1,
                    help="Later",
                )
                st.button("", icon=":material/close:", key=f"cut-drop-{take.uid}", on_click=_drop, args=(key, place), help="Drop this shot")
    session.assign(key, takes)
    if unusable:
        st.error(
            "These cannot go in a cut: "
            + ", ".join(f"`{literal(i.split(':')[0][:8])}`" for i in unusable)
            + ". Drop them to stitch the rest.",
            icon=":material/block:",
        )
        return None
    return usable


def _trim(take: Take, video: Path) -> Take | None:
    try:
        info = _probe(str(video), video.stat().st_mtime_ns)
    except (frames.FrameError, OSError) as exc:
        st.caption(f":material/broken_image: This clip cannot be decoded: {literal(str(exc))}")
        return None
    step = float(1 / info.fps)
    length = round(info.duration, 3)
    start_col, end_col = st.columns(2)
    in_s = start_col.number_input("In (s)", 0.0, length, take.in_s or 0.0, step, format="%.3f", key=f"cut-in-{take.uid}")
    out_s = end_col.number_input(
        "Out (s)", 0.0, length, take.out_s if take.out_s is not None else length, step, format="%.3f", key=f"cut-out-{take.uid}"
    )
    try:
        first, end = frames.frame_range(info, in_s or None, None if out_s >= length else out_s)
    except frames.FrameError as exc:
        st.caption(f":material/error: {literal(exc.reason)}")
        return None
    kept = float((info.frame_pts[end] if end < info.frames else info.end_pts) - info.frame_pts[first])
    st.caption(f"Frames {first + 1}–{end} of {info.frames} · {kept:.2f} s")
    return replace(take, in_s=in_s or None, out_s=None if out_s >= length else out_s)


@st.cache_data(max_entries=64, show_spinner=False)
def _probe(path: str, _mtime: int) -> frames.VideoInfo:
    return frames.probe(path)


def _move(key: str, place: int, by: int) -> None:
    takes = list(session.value(key) or [])
    other = place + by
    if 0 <= place < len(takes) and 0 <= other < len(takes):
        takes[place], takes[other] = takes[other], takes[place]
        session.assign(key, takes)


def _drop(key: str, place: int) -> None:
    takes = list(session.value(key) or [])
    if 0 <= place < len(takes):
        del takes[place]
        session.assign(key, takes)


def shots_of(usable: list[tuple[Take, Record, Path]]) -> list[cuts.Shot]:
    return [
        cuts.Shot(video, take.in_s, take.out_s, generation_id=record.id, recipe=Recipe.of(record).fields())
        for take, record, video in usable
    ]


def plan_line(shots: list[cuts.Shot]) -> cuts.CutPlan | None:
    """What stitching will do, said before it is done; None (and why) when it cannot be done."""
    try:
        cut_plan = cuts.plan(shots)
    except (cuts.CutError, frames.FrameError) as exc:
        st.error(literal(str(exc)), icon=":material/error:")
        return None
    how = (
        "Joined by stream copy: nothing is encoded again."
        if cut_plan.method == "copy"
        else f"Encoded again to {cut_plan.width}×{cut_plan.height} at {float(cut_plan.fps):g} fps: {cut_plan.reason}"
    )
    sound = {"copy": "sound copied", "encode": "sound kept, silence where a shot has none", "none": "no sound"}[cut_plan.sound]
    st.caption(f":material/movie: {len(shots)} shots · {cut_plan.duration:.2f} s · {how} ({sound})")
    return cut_plan


def stitch(conn: Connection, shots: list[cuts.Shot], title: str) -> Cut | None:
    dest_dir = conn.store.videos_dir / CUTS_DIR
    dest_dir.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256("|".join(f"{s.generation_id}:{s.in_s}:{s.out_s}" for s in shots).encode()).hexdigest()[:16] + ".mp4"
    try:
        with st.spinner("Stitching…"):
            result = cuts.stitch(shots, dest_dir / name, scratch=conn.store.partial_dir)
    except (cuts.CutError, frames.FrameError) as exc:
        st.error(f"The cut could not be made: {literal(str(exc))}", icon=":material/error:")
        return None
    recipe = {"shots": [{"id": s.generation_id, "in_s": s.in_s, "out_s": s.out_s} for s in shots], "method": result.method}
    cut = conn.store.add_cut(
        server=conn.server,
        account=conn.account,
        owner=services.signed_in_user(),
        title=title,
        video_path=f"{CUTS_DIR}/{name}",
        recipe=recipe,
        duration=result.duration,
        method=result.method,
        size_bytes=result.size_bytes,
    )
    session.assign(LAST_CUT, cut.id)
    return cut


def show_cut(conn: Connection, cut: Cut) -> None:
    video = cut.video_file(conn.store.videos_dir)
    st.subheader(cut.title or "Cut")
    how = "stream copy" if cut.method == "copy" else "encoded again"
    shots = len(cut.recipe.get("shots", []))
    st.caption(f"{clock(cut.created_at)} · {shots} shots · {cut.duration:.2f} s · {how} · {cut.size_bytes / 2**20:.1f} MB")
    if video is None:
        st.warning("The cut's file is no longer here.", icon=":material/videocam_off:")
        return
    st.video(video)
    st.download_button(
        "Download the cut",
        data=partial(video.read_bytes),
        file_name=f"cut-{cut.id[:8]}.mp4",
        mime="video/mp4",
        icon=":material/download:",
        on_click="ignore",
        key=f"cut-download-{cut.id}",
    )
    ids = list(dict.fromkeys(str(s.get("id")) for s in cut.recipe.get("shots", [])))
    found = {r.id: r for r in conn.store.find(ids)}
    shots = [found[i] for i in ids if i in found]  # in the cut's order
    st.download_button(
        "Demo reel with its shots",
        data=partial(_reel, conn, cut, shots),
        file_name=reel.file_name(),
        mime="application/zip",
        icon=":material/movie:",
        on_click="ignore",
        key=f"cut-reel-{cut.id}",
        help="The cut first, then each shot with its prompt and settings, as a page that plays offline.",
    )
    loop_panel(conn, video, key=f"cut-{cut.id}")


def _reel(conn: Connection, cut: Cut, shots: list[Record]) -> bytes:
    by = services.signed_in_user()
    return reel.build(shots, conn.store.data_dir, ratings=conn.store.ratings([r.id for r in shots], by=by), cuts=[cut])


def loop_panel(conn: Connection, video: Path, *, key: str, in_s: float | None = None, out_s: float | None = None) -> None:
    """A GIF or WebP of `video` (from `in_s` to `out_s`: the shot's trim) for slides and banners, its size shown
    before the download."""
    with st.expander("Loop for slides", icon=":material/gif_box:"):
        try:
            info = _probe(str(video), video.stat().st_mtime_ns)
        except (frames.FrameError, OSError) as exc:
            st.error(f"This clip cannot be decoded: {literal(str(exc))}", icon=":material/broken_image:")
            return
        widest = info.display_size[0]
        width_key = f"{key}-loop-width"
        if session.value(width_key) is None:
            session.assign(width_key, min(loops.LOOP_WIDTH, widest))
        fmt_col, width_col, fps_col, turn_col = st.columns([2, 3, 2, 2], vertical_alignment="bottom")
        fmt = fmt_col.segmented_control(
            "Format", ["gif", "webp"], default="gif", format_func=str.upper, key=f"{key}-loop-fmt", required=True
        )
        width = width_col.slider("Width (px)", loops.MIN_WIDTH, max(loops.MIN_WIDTH + 16, widest), step=16, key=width_key)
        fps = fps_col.selectbox("Frames per second", [8, 10, 12, 15, 24], index=2, key=f"{key}-loop-fps")
        pingpong = turn_col.toggle("Ping-pong", key=f"{key}-loop-pingpong", help="Forward, then backward: no jump at the loop's seam.")
        start = in_s or 0.0
        if (out_s if out_s is not None else info.duration) - start > loops.MAX_SECONDS:
            out_s = start + loops.MAX_SECONDS
            st.caption(f"A loop holds at most {loops.MAX_SECONDS:g} s: the {loops.MAX_SECONDS:g} s from {start:.2f} s are used.")
        again_key = f"{key}-loop-again"
        again = bool(session.value(again_key))
        session.forget(again_key)
        if st.button("Make the loop", icon=":material/autorenew:", key=f"{key}-loop-make") or again:
            made_of = f"{video.name}:{video.stat().st_mtime_ns}:{in_s}:{out_s}:{fmt}:{width}:{fps}:{pingpong}"
            name = hashlib.sha256(made_of.encode()).hexdigest()[:16]
            dest = conn.store.data_dir / LOOPS_DIR / f"{name}.{fmt}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with st.spinner("Making the loop…"):
                    made = loops.make_loop(
                        video,
                        dest,
                        fmt=fmt,
                        width=width,
                        fps=Fraction(fps),
                        pingpong=pingpong,
                        in_s=in_s,
                        out_s=out_s,
                        max_bytes=loops.LOOP_MAX_BYTES,
                        scratch=conn.store.partial_dir,
                    )
            except loops.LoopTooLargeError as exc:
                smaller = exc.suggested_width
                st.warning(literal(str(exc)), icon=":material/photo_size_select_small:")
                if smaller:
                    st.button(
                        f"Make it {smaller} px wide", key=f"{key}-loop-smaller", on_click=_smaller, args=(width_key, smaller, again_key)
                    )
                return
            except loops.LoopError as exc:
                st.error(f"The loop could not be made: {literal(str(exc))}", icon=":material/error:")
                return
            session.assign(f"{key}-loop-made", str(made.path))
        made_path = session.value(f"{key}-loop-made")
        if made_path and (path := Path(made_path)).is_file() and path.is_relative_to(conn.store.data_dir / LOOPS_DIR):
            size = path.stat().st_size
            st.image(path.read_bytes(), caption=f"{path.suffix[1:].upper()} · {size / 2**20:.2f} MB", width=min(width, 640))
            st.download_button(
                f"Download ({size / 2**20:.2f} MB)",
                data=partial(path.read_bytes),
                file_name=f"loop{path.suffix}",
                mime=f"image/{path.suffix[1:]}",
                icon=":material/download:",
                on_click="ignore",
                key=f"{key}-loop-download",
            )


def in_chain(conn: Connection, record: Record) -> bool:
    """Whether `record` started from a frame of another clip, or a clip started from one of its frames."""
    return lineage.is_frame(record.origin) or any(
        lineage.is_frame(c.origin) and c.origin["from_id"] == record.id for c in conn.store.children([record.id])
    )


def chain_link(conn: Connection, record: Record, *, loop: bool = False) -> None:
    """ "Chain" for a shot of a chain; with `loop`, "Trim or loop" for any other finished video."""
    if in_chain(conn, record):
        st.page_link("pages/cut.py", label="Chain", icon=":material/view_timeline:", query_params={"chain": record.id})
    elif loop and record.status is Status.COMPLETED and record.video_file(conn.store.videos_dir) is not None:
        st.page_link("pages/cut.py", label="Trim or loop", icon=":material/gif_box:", query_params={"ids": record.id})


def stitch_link(records: list[Record]) -> None:
    """For History's selection: the selected videos, oldest first, as the shots of a cut."""
    if len(records) >= 2:
        ordered = sorted(records, key=lambda r: r.created_at)
        st.page_link(
            "pages/cut.py", label="Stitch into a cut", icon=":material/movie:", query_params={"ids": ",".join(r.id for r in ordered)}
        )


def _smaller(width_key: str, width: int, again_key: str) -> None:
    # The smaller width, and the loop made at it in the same click.
    session.assign(width_key, width)
    session.assign(again_key, True)


def recent(conn: Connection) -> None:
    made = conn.store.cuts(conn.server, conn.account, services.owner_scope())
    if not made:
        return
    st.subheader("Earlier cuts")
    for cut in made[:10]:
        st.page_link(
            "pages/cut.py",
            label=f"{cut.title or 'Cut'} · {clock(cut.created_at)} · {cut.duration:.1f} s",
            icon=":material/movie:",
            query_params={"cut": cut.id},
        )
