"""Use a frame: pick one frame of a finished video and start the next shot from it with an image-to-video model.

The frame is decoded from the app's own copy at full resolution (videogen/frames.py), kept as an upload
by content like any image a person gives, and put in the chosen model's image field; the form records
where it came from (`lineage.frame_origin`), so the new clip is the next shot of a chain. The last frame
is the default, and stepping back is one click: last frames are often the damaged ones.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components import form_builder, prompt_form, services, session
from components.formatting import model_name
from components.markdown import literal
from videogen import catalog, frames, lineage, media
from videogen.catalog import Model, Param
from videogen.connection import Connection
from videogen.store import Record

OPEN = "frame_pick_for"  # the generation whose picker is open
FRAME = "frame_pick_index"  # the frame shown in the open picker
TARGET = "frame_pick_model"
FIELD = "frame_pick_field"


def takes_frames(model: Model) -> list[Param]:
    """The model's fields one frame can go in (a start image, a last image), in the catalog's order."""
    return [p for p in model.params if p.media == "image" and not p.is_list and "mask" not in p.name]


def targets() -> tuple[list[Model], list[Model]]:
    """Image-to-video models that can take a local frame, and those that take their image only as a public link."""
    able, unable = [], []
    for model in catalog.models().values():
        if model.kind != "image-to-video" or not (fields := takes_frames(model)):
            continue
        (able if any(p.accepts_base64 for p in fields) else unable).append(model)
    return able, unable


@st.cache_data(max_entries=16, show_spinner=False)
def _probe(path: str, _stamp: tuple[int, int]) -> frames.VideoInfo:
    return frames.probe(path)


@st.cache_data(max_entries=64, show_spinner=False)
def _frame(path: str, _stamp: tuple[int, int], index: int) -> bytes:
    return frames.frame_at(path, index, info=_probe(path, _stamp))


def _stamp(video: Path) -> tuple[int, int]:
    # The cache's key: a file replaced under the same name (a recipe written in) is read again.
    stat = video.stat()
    return stat.st_mtime_ns, stat.st_size


def button(conn: Connection, record: Record, video: Path | None, *, key: str) -> None:
    """A "Use a frame" button for a finished video with a local copy; it opens the picker."""
    if video is None:
        return
    st.button(
        "Use a frame",
        icon=":material/photo_frame:",
        key=f"{key}-frame-{record.id}",
        help="Start the next shot from a frame of this clip",
        on_click=_open,
        args=(record.id,),
    )


def show_if_open(conn: Connection) -> None:
    """The picker, while one is open: once per run from app.py, so a clip shown twice on a page (a card and
    History's detail) still opens one dialog, and it stays open through reruns until closed or used."""
    if generation_id := session.value(OPEN):
        picker(conn, generation_id)


def _open(generation_id: str) -> None:
    session.assign(OPEN, generation_id)
    session.forget(FRAME)


def _close() -> None:
    session.forget(OPEN)


@st.dialog("Use a frame", width="large", on_dismiss=_close)
def picker(conn: Connection, generation_id: str) -> None:
    record = conn.store.get(generation_id)
    video = record.video_file(conn.store.videos_dir) if record else None
    if record is None or video is None:
        st.error("This video has no copy here any more, so no frame can be taken from it.", icon=":material/videocam_off:")
        return
    try:
        info = _probe(str(video), _stamp(video))
    except frames.FrameError as exc:
        st.error(f"This clip cannot be decoded: {literal(str(exc))}", icon=":material/broken_image:")
        return
    count = info.frames
    number = session.value(FRAME)  # counted from 1, as the caption says, and the slider with it
    if not isinstance(number, int) or not 1 <= number <= count:
        session.assign(FRAME, count)
    picture, controls = st.columns([3, 2], gap="medium")
    with controls:
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            st.button("Back one", icon=":material/chevron_left:", on_click=_step, args=(-1, count), disabled=session.value(FRAME) == 1)
            st.button("On one", icon=":material/chevron_right:", on_click=_step, args=(1, count), disabled=session.value(FRAME) == count)
            st.button("Last frame", icon=":material/last_page:", on_click=session.assign, args=(FRAME, count))
        if count > 1:
            st.slider("Frame", 1, count, key=FRAME, format="%d", help="Last frames are often damaged: step back a few to find a clean one.")
    index = session.value(FRAME) - 1
    seconds = info.frame_times[index]
    with picture:
        try:
            png = _frame(str(video), _stamp(video), index)
        except frames.FrameError as exc:
            st.error(f"Frame {index + 1} cannot be decoded: {literal(str(exc))}", icon=":material/broken_image:")
            return
        st.image(png, caption=f"Frame {index + 1} of {info.frames} · {seconds:.3f} s · {info.width}×{info.height}", width="stretch")
    with controls:
        _use(conn, record, video, info, index, seconds)


def _use(conn: Connection, record: Record, video: Path, info: frames.VideoInfo, index: int, seconds: float) -> None:
    """Which model animates the frame, in which of its fields, and the button that puts it in the form."""
    able, unable = targets()
    ids = [m.id for m in able]
    if session.value(TARGET) not in ids:
        session.assign(TARGET, _preferred(conn, ids))
    target = catalog.get(st.selectbox("Animate it with", ids, key=TARGET, format_func=model_name))
    fields = [p for p in takes_frames(target) if p.accepts_base64]
    names = [p.name for p in fields]
    if session.value(FIELD) not in names:
        session.assign(FIELD, names[0])
    if len(fields) > 1:
        st.segmented_control("As its", names, key=FIELD, format_func=lambda n: _field_label(target, n), required=True)
    field = next(p for p in fields if p.name == session.value(FIELD))
    if st.button("Use this frame", type="primary", icon=":material/check:", key="frame-use", width="stretch"):
        try:
            upload = frames.keep_frame(video, field, services.data_dir(), index, info=info)
        except (frames.FrameError, media.MediaError) as exc:
            st.error(literal(str(exc)), icon=":material/error:")
            return
        _into_form(record, target, field, upload.reference, index, seconds)
        _close()
        st.rerun()
    with st.expander(f"{len(unable)} models cannot take a local frame"):
        st.caption("They fetch their image from a public link (no Base64), so a frame of this app's copy cannot reach them.")
        st.text(", ".join(model_name(m.id) for m in unable))


def _preferred(conn: Connection, ids: list[str]) -> str:
    """The model the frame goes to first: the form's, when it takes a frame; else the one this person last
    animated a picture with; else the first that can."""
    if (current := session.value(session.MODEL)) in ids:
        return current
    able = set(ids)
    recent = conn.store.records(limit=200, owner=services.signed_in_user() or None)
    return next((r.model for r in recent if r.model in able), ids[0])


def _step(by: int, count: int) -> None:
    session.assign(FRAME, min(count, max(1, int(session.value(FRAME) or count) + by)))


def _field_label(model: Model, name: str) -> str:
    return "start image" if name == takes_frames(model)[0].name else name.replace("_url", "").replace("_", " ")


def _into_form(record: Record, target: Model, field: Param, reference: str, index: int, seconds: float) -> None:
    """The frame in `target`'s field. Onto a form already on `target`, the rest of it stays: a first-and-last-frame
    model takes its two frames one after the other."""
    if session.value(session.MODEL) != target.id:
        prompt_form.load_into_form({"model": target.id, "prompt": record.prompt, field.name: reference}, parent_id=record.id)
    else:
        session.set_upload_refs(form_builder.key(field.name), [reference])
    session.set_form_origin(lineage.frame_origin(record.id, frame=index, at_s=seconds, field=field.name, image_ref=reference))
    clip = services.as_code(record.id.split(":")[0][:8])
    session.set_form_notice(
        f"Frame {index + 1} ({seconds:.2f} s) of {clip} is the {_field_label(target, field.name)} of {model_name(target.id)}."
    )
    session.ask_for_generate()
