"""One form for every model: a catalog entry becomes widgets, and the widgets' values become raw parameters.

`layout(model)` decides, from the JSON-Schema shape of each parameter alone,
which widget it gets and whether it sits up front or under Advanced; there is
no branch per model id. `draw_media`, `draw_fields` and `raw_values` put that
layout on the page and read it back. What the values mean (types, bounds,
enums, the vendor's schema) is decided by `catalog.validate`, never here.

Widget keys are `gen_<parameter>`, shared by every model, so a prompt or an
aspect ratio survives a change of model; `reconcile` drops what the new model
cannot take and says so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, assert_never

import streamlit as st

from components import session
from components.markdown import literal
from videogen import catalog, media
from videogen.catalog import Model, Param
from videogen.text import shorten

#: Up front after the required ones, in this order; everything else goes under Advanced.
COMMON = ("prompt", "aspect_ratio", "duration", "resolution")
#: Labels that say more than the parameter's name.
LABELS = {"duration": "Duration (s)"}
#: A segmented control holds at most this many options, each at most this long; beyond, a selectbox.
SEGMENTED_MAX_OPTIONS = 5
SEGMENTED_MAX_CHARS = 14
#: A bounded integer with more steps than this reads better as a text field (a seed, say) than as a slider.
SLIDER_MAX_STEPS = 200
#: What an enum option reads as, where the bare value says too little.
OPTION_LABELS = {"16:9": "16:9 landscape", "9:16": "9:16 portrait"}
LONG_TEXT_HINTS = ("prompt", "content", "text", "script")
PLACEHOLDERS = {
    "prompt": "A slow dolly shot through a neon-lit night market in the rain…",
    "negative_prompt": "What to keep out of the video",
}
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp"]
EXAMPLE_LINKS = {kind: f"https://example.com/{kind}" for kind in ("image", "video", "audio")}


#: What a parameter is edited with; decided by `widget_for` from the schema's shape alone.
Widget = Literal["segmented", "select", "toggle", "slider", "number", "integer_text", "text", "textarea", "json", "media"]


#: Where a form's values live in session state: the video form's under "gen_", an image model's (Make a start
#: frame, which sits beside it on the same page) under "img_".
VIDEO_PREFIX, IMAGE_PREFIX = "gen", "img"


def key(name: str, prefix: str = VIDEO_PREFIX) -> str:
    return f"{prefix}_{name}"


@dataclass(frozen=True)
class Field:
    param: Param
    widget: Widget
    advanced: bool
    prefix: str = VIDEO_PREFIX

    @property
    def name(self) -> str:
        return self.param.name

    @property
    def key(self) -> str:
        return key(self.param.name, self.prefix)

    @property
    def label(self) -> str:
        if self.param.media:
            base = self.param.name.removesuffix("_urls").removesuffix("_url").removesuffix("_list")
            text = base.replace("_", " ").capitalize()
            return text + "s" if self.param.is_list and not text.endswith("s") else text
        if self.prefix == IMAGE_PREFIX and self.name == "prompt":
            return "Start frame prompt"  # it sits on the page beside the video's own Prompt
        return LABELS.get(self.name, self.param.label)

    @property
    def options(self) -> tuple:
        return self.param.enum or ()


def widget_for(param: Param) -> Widget:
    rules = param.rules
    if param.media:
        return "media"
    kind = param.type
    if param.enum is not None:
        short = all(len(OPTION_LABELS.get(str(o), str(o))) <= SEGMENTED_MAX_CHARS for o in param.enum)
        return "segmented" if len(param.enum) <= SEGMENTED_MAX_OPTIONS and short else "select"
    if kind == "boolean":
        return "toggle"
    if kind in ("integer", "number"):
        low, high = rules.get("minimum"), rules.get("maximum")
        if low is None or high is None:
            return "integer_text" if kind == "integer" else "number"
        if kind == "integer" and high - low > SLIDER_MAX_STEPS:
            return "integer_text"
        # A slider always holds a value: only where the schema gives one to start from.
        return "slider" if param.default is not None or param.required else "number"
    if kind == "string":
        return "textarea" if any(h in param.name for h in LONG_TEXT_HINTS) else "text"
    return "json"  # objects, arrays of objects, anything else: edited as JSON, checked on submit


@cache
def layout(model_id: str) -> tuple[Field, ...]:
    """The model's fields in display order: required and common ones first, the rest under Advanced.
    A video model's or an image model's: the same builder makes both forms."""
    try:
        model, prefix = catalog.get(model_id), VIDEO_PREFIX
    except catalog.UnknownModelError:
        model, prefix = catalog.get_image(model_id), IMAGE_PREFIX
    fields = [
        Field(p, widget_for(p), advanced=not (p.required or p.name in COMMON or p.media in ("image", "video")), prefix=prefix)
        for p in model.params
    ]

    def order(f: Field) -> tuple:
        common = COMMON.index(f.name) if f.name in COMMON else len(COMMON)
        return (f.advanced, f.widget != "textarea" or f.advanced, common, not f.param.required)

    return tuple(sorted(fields, key=order))


# -- reading and cleaning session state ------------------------------------------


def default_value(field: Field) -> Any:
    """What the widget starts at: the published default, or blank ("the server's default")."""
    default = field.param.default
    match field.widget:
        case "text" | "textarea" | "integer_text":
            return "" if default is None else str(default)
        case "json":
            return "" if default is None else json.dumps(default)
        case "toggle":
            return bool(default) if default is not None else False
        case "segmented" | "select":
            return default if default in field.options else (field.options[0] if field.param.required else None)
        case "slider":
            return default if default is not None else field.param.rules.get("minimum")
        case "number" | "media":
            return default  # a number's None is a blank field; media have no widget value of their own
        case unknown:
            assert_never(unknown)


def widget_value(field: Field, value: Any) -> tuple[Any, bool]:
    """`value` as this field's widget can hold it, and whether it could: (converted, True) or (default, False)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default_value(field), True
    widget = field.widget
    try:
        if widget in ("segmented", "select"):
            for option in field.options:
                if option == value or str(option) == str(value):
                    return option, True
            return default_value(field), False
        if widget == "toggle":
            if isinstance(value, bool):
                return value, True
            text = str(value).strip().lower()
            return (text == "true", True) if text in ("true", "false") else (default_value(field), False)
        if widget in ("slider", "number"):
            number = float(value)
            low, high = field.param.rules.get("minimum"), field.param.rules.get("maximum")
            if (low is not None and number < low) or (high is not None and number > high):
                return default_value(field), False
            if field.param.type == "integer":
                return (int(number), True) if number.is_integer() else (default_value(field), False)
            return number, True
        if widget == "json":
            return (value if isinstance(value, str) else json.dumps(value)), True
        if widget in ("text", "textarea", "integer_text"):
            if isinstance(value, (dict, list)):
                return default_value(field), False
            return str(value), True
    except (TypeError, ValueError):
        return default_value(field), False
    return value, True


def prepare(model: Model) -> list[str]:
    """Give every field a value its widget accepts, before any widget is drawn; returns what had to be reset.

    A value can reach session state by other routes than the widgets (a stale
    session, a past request); a widget given a value outside its options would
    fail, and such a value could never have been sent anyway.
    """
    reset = []
    for field in layout(model.id):
        if field.widget == "media":
            if not isinstance(session.setdefault(field.key, ""), str):
                session.assign(field.key, "")
            continue
        current = session.value(field.key)
        converted, ok = widget_value(field, current)
        if not ok:
            reset.append(f"{field.label} {_show(current)!r}")
        if current is None or converted != current or type(converted) is not type(current):
            session.assign(field.key, converted)
    return reset


def reconcile(old: Model, new: Model) -> tuple[list[str], list[str]]:
    """After a change of model: keep what the new model takes, drop the rest. Returns (kept, dropped) labels."""
    new_fields = {f.name: f for f in layout(new.id)}
    kept, dropped = [], []
    for field in layout(old.id):
        value = _current(field)
        target = new_fields.get(field.name)
        if target is None:
            # Cleared even when blank: every widget scans the whole session state, so leftovers of
            # the models visited before slow down each later form.
            _clear(field)
            if not _is_blank(value):
                dropped.append(f"{field.label} (not a {new.name} parameter)")
            continue
        if _is_blank(value):
            continue
        if field.widget == "media" or target.widget == "media":
            if field.widget == target.widget == "media" and field.param.media == target.param.media:
                kept.append(target.label)
            else:
                dropped.append(target.label)
                _clear(field)
            continue
        converted, ok = widget_value(target, value)
        refused = catalog.validate(new, {target.name: converted}).errors.get(target.name) if ok else "no"
        if ok and not refused:
            session.assign(target.key, converted)
            if converted != target.param.default or target.param.required:
                kept.append(target.label)
        else:
            session.assign(target.key, default_value(target))
            dropped.append(f"{field.label} {_show(value)} ({new.name} does not offer it)")
    return kept, dropped


def _current(field: Field) -> Any:
    if field.widget == "media":
        return session.value(field.key) or session.upload_refs(field.key)
    value = session.value(field.key)
    return None if value == default_value(field) and not field.param.required and field.name not in COMMON else value


def _clear(field: Field) -> None:
    for suffix in ("", session.UPLOAD_REFS_SUFFIX, "__pick"):
        session.forget(field.key + suffix)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _show(value: Any) -> str:
    return shorten(str(value), 24)


# -- drawing ---------------------------------------------------------------------


def draw_fields(model: Model, *, advanced: bool, only: Collection[str] | None = None, skip: Collection[str] = ()) -> dict[str, Any]:
    """Draw the non-media fields of one section (inside the form); returns error slots by parameter name.

    `only` and `skip` draw some of them apart: the ones the price follows sit outside the form, where
    a change reruns the page.
    """
    fields = [
        f
        for f in layout(model.id)
        if f.advanced == advanced and f.widget != "media" and (only is None or f.name in only) and f.name not in skip
    ]
    slots: dict[str, Any] = {}
    pending_pair: list[Field] = []

    def flush() -> None:
        if not pending_pair:
            return
        columns = st.columns(2) if len(pending_pair) == 2 else [st.container()]
        for column, field in zip(columns, pending_pair):
            with column:
                slots[field.name] = _draw(field)
        pending_pair.clear()

    for field in fields:
        # Short controls pair up side by side (veo2: aspect ratio beside duration).
        if field.widget in ("segmented", "select", "slider", "number", "integer_text", "toggle") and not advanced:
            pending_pair.append(field)
            if len(pending_pair) == 2:
                flush()
            continue
        flush()
        slots[field.name] = _draw(field)
    flush()
    return slots


def _help(field: Field) -> str | None:
    parts = []
    if field.param.description:
        parts.append(field.param.description)
    limit = field.param.max_length
    if field.widget in ("text", "textarea") and limit:
        parts.append(f"Up to {limit:,} characters.")
    if field.param.default is not None and field.widget not in ("segmented", "select", "toggle", "slider"):
        parts.append(f"Default: {field.param.default}.")
    if field.widget == "integer_text":
        parts.append("A whole number. Leave blank for the server's choice.")
    if field.widget == "json":
        parts.append("JSON, checked when you press Generate. Leave blank to leave it out.")
    return " ".join(parts) or None


def _draw(field: Field) -> Any:
    """One widget; returns the empty slot beside it where its error goes."""
    k, label, rules = field.key, field.label, field.param.rules
    # persist_state: the values survive a visit to History and back, as a half-written prompt should.
    common = {"key": k, "help": _help(field), "persist_state": "session"}
    match field.widget:
        case "segmented":
            st.segmented_control(
                label,
                field.options,
                required=field.param.required or field.param.default is not None,
                format_func=lambda o: OPTION_LABELS.get(str(o), str(o)),
                **common,
            )
        case "select":
            st.selectbox(
                label, field.options, placeholder="Server default", format_func=lambda o: OPTION_LABELS.get(str(o), str(o)), **common
            )
        case "toggle":
            st.toggle(label, **common)
        case "slider":
            is_int = field.param.type == "integer"
            low, high = rules["minimum"], rules["maximum"]
            st.slider(
                label,
                min_value=int(low) if is_int else float(low),
                max_value=int(high) if is_int else float(high),
                step=1 if is_int else _step(float(low), float(high)),
                **common,
            )
        case "number":
            # Streamlit refuses bounds of one numeric type with values of another.
            as_type = int if field.param.type == "integer" else float
            low, high = rules.get("minimum"), rules.get("maximum")
            st.number_input(
                label,
                min_value=None if low is None else as_type(low),
                max_value=None if high is None else as_type(high),
                step=as_type(1) if as_type is int else None,
                placeholder="Server default",
                **common,
            )
        case "integer_text":
            st.text_input(label, placeholder="Random" if field.name == "seed" else "Server default", **common)
        case "textarea":
            st.text_area(label, height=110 if field.name == "prompt" else 68, placeholder=PLACEHOLDERS.get(field.name), **common)
        case "text":
            st.text_input(label, **common)
        case "json":
            st.text_area(label, height=90, placeholder=_json_placeholder(field), **common)
        case "media":
            raise ValueError(f"{field.name} is a media input: draw_media draws it, outside the form")
        case unknown:
            assert_never(unknown)
    return st.empty()


def _json_placeholder(field: Field) -> str:
    """The shape the schema asks for, as an example to overwrite (its smallest valid value)."""
    sample = catalog.example(field.param.rules, EXAMPLE_LINKS)
    return json.dumps(sample if sample not in ({}, []) else ({"key": "value"} if field.param.type == "object" else []))


def _step(low: float, high: float) -> float:
    span = high - low
    return 0.01 if span <= 2 else 0.1 if span <= 20 else 1.0


# -- media: drawn outside the form, so a thumbnail and any problem show as soon as a file is chosen --


@dataclass
class MediaValue:
    value: Any = None  # a reference, a link, or a list of them
    error: str | None = None
    slot: Any = None  # where a problem found on submit is shown


def draw_media(model: Model, data_dir: Path, finished_videos: Callable[[], list[tuple[str, str]]]) -> dict[str, MediaValue]:
    """The model's image, video and audio inputs; returns each one's current value or problem."""
    values: dict[str, MediaValue] = {}
    for field in layout(model.id):
        if field.widget != "media":
            continue
        with st.container(border=True, key=f"media-{field.name}"):
            if field.param.media == "image":
                values[field.name] = _image_input(field, data_dir)
            else:
                values[field.name] = _link_input(field, finished_videos if field.param.media == "video" else None)
            if values[field.name].error:
                # Names a file the person chose, or a link they typed: literal text, not markdown.
                st.error(literal(values[field.name].error), icon=":material/error:")
            values[field.name].slot = st.empty()
    return values


def _title(field: Field) -> None:
    required = " (required)" if field.param.required else ""
    st.markdown(f"**{field.label}**{required}", help=field.param.description or None)


def _image_input(field: Field, data_dir: Path) -> MediaValue:
    _title(field)
    k = field.key
    result = MediaValue()
    refs: list[str] = []
    upload_col, link_col = st.columns([3, 2])
    with upload_col:
        if field.param.accepts_base64:
            files = st.file_uploader(
                f"Upload {field.label.lower()}",
                type=IMAGE_TYPES,
                accept_multiple_files=field.param.is_list,
                key=k + "__file",
                label_visibility="collapsed",
                help=f"PNG, JPEG or WebP, up to {media.max_bytes(field.param) / 2**20:.0f} MB.",
                # The browser refuses a bigger file before sending it; save_image checks the exact bytes.
                max_upload_size=math.ceil(media.max_bytes(field.param) / 2**20),
            )
            for file in files if isinstance(files, list) else [files] if files else []:
                outcome = _saved(file, field.param, data_dir)
                if outcome.startswith(media.REFERENCE_PREFIX):
                    refs.append(outcome)
                else:
                    result.error = f"{file.name}: {outcome}"
            if refs:
                session.set_upload_refs(k, refs)
        else:
            st.caption(":material/link: This model fetches its images itself: give a public https link.")
    with link_col:
        st.text_input(
            "or an https link",
            key=k,
            placeholder="https://…",
            persist_state="session",
            label_visibility="visible" if field.param.accepts_base64 else "collapsed",
            help="One link per line." if field.param.is_list else None,
        )
    kept = [r for r in session.upload_refs(k) or [] if media.is_reference(r)]
    links = [line.strip() for line in str(session.value(k) or "").splitlines() if line.strip()]
    # st.image reads a local file whenever its text names one, and serves it: a thumbnail is drawn only
    # from bytes the app read from its own uploads, or from a link that passed the checks.
    thumbs: list[bytes | str] = []
    if kept:
        uploads = Path(data_dir) / media.UPLOADS_DIR
        found = [media.own_file(media.reference_path(r, data_dir), uploads) for r in kept]
        thumbs = [path.read_bytes() for path in found if path is not None]
    elif links:
        try:
            links = [media.check_link(link, "image") for link in links]
        except media.MediaError as exc:
            result.error = str(exc)
            links = []
        thumbs = [link for link in links if media.browser_link(link, "image")]
    if thumbs:
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            for thumb in thumbs[:4]:
                st.image(thumb, width=120)
            if kept and st.button("Remove", key=k + "__remove", icon=":material/close:"):
                session.forget_upload_refs(k)
                st.rerun()
    chosen = kept or links
    if chosen and not result.error:
        result.value = chosen if field.param.is_list else chosen[0]
    return result


def _saved(file: Any, param: Param, data_dir: Path) -> str:
    """The upload's reference, or why it was refused: checked and kept once per uploaded file, not on every run."""
    done = session.uploads_checked()
    # The same file may meet another model's rules after a switch: the rules are part of the key.
    key = (file.file_id, json.dumps({k: v for k, v in param.rules.items() if k.startswith("x-")}, sort_keys=True))
    if key not in done:
        try:
            done[key] = media.save_image(file.getvalue(), param, data_dir).reference
        except media.MediaError as exc:
            done[key] = str(exc)
    return done[key]


def _link_input(field: Field, finished_videos: Callable[[], list[tuple[str, str]]] | None) -> MediaValue:
    _title(field)
    k = field.key
    result = MediaValue()
    picked = None
    if finished_videos is not None:
        choices = finished_videos()
        if choices:
            labels = dict(choices)
            picked = st.selectbox(
                "Use a finished generation",
                list(labels),
                index=None,
                key=k + "__pick",
                persist_state="session",
                format_func=labels.get,
                placeholder="Pick one of your videos…",
                help="Sends that generation's video link from the API, which the API keeps for a limited time.",
            )
    st.text_input(
        "https link" if finished_videos is None else "or an https link",
        key=k,
        placeholder="https://…",
        persist_state="session",
        help="One link per line." if field.param.is_list else None,
    )
    links = [line.strip() for line in str(session.value(k) or "").splitlines() if line.strip()]
    try:
        links = [media.check_link(link, field.param.media or "file") for link in links]
    except media.MediaError as exc:
        result.error = str(exc)
        return result
    chosen = ([picked] if picked else []) + links
    if chosen:
        result.value = chosen if field.param.is_list else chosen[0]
    return result


# -- from widgets to raw parameters --------------------------------------------------


def raw_values(model: Model, media_values: dict[str, MediaValue]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as raw parameters for `catalog.validate`, and the errors found while reading them."""
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in layout(model.id):
        if field.widget == "media":
            given = media_values.get(field.name, MediaValue())
            if given.error:
                errors[field.name] = given.error
            elif isinstance(given.value, str) and not media.is_reference(given.value) and not _own_video(given.value):
                try:
                    params[field.name] = media.check_link(given.value, field.param.media or "file")
                except media.MediaError as exc:
                    errors[field.name] = str(exc)
            elif isinstance(given.value, list):
                checked = []
                for item in given.value:
                    if media.is_reference(item) or _own_video(item):
                        checked.append(item)
                        continue
                    try:
                        checked.append(media.check_link(item, field.param.media or "file"))
                    except media.MediaError as exc:
                        errors[field.name] = str(exc)
                params[field.name] = checked
            else:
                params[field.name] = given.value
            continue
        value = session.value(field.key)
        if field.widget == "json":
            text = str(value or "").strip()
            if text:
                try:
                    params[field.name] = json.loads(text)
                except ValueError as exc:
                    errors[field.name] = f"{field.label} is not valid JSON: {exc}."
            continue
        if field.widget == "toggle" and field.param.default is None and not field.param.required and value is False:
            continue  # an untouched toggle with no published default: leave it to the server
        params[field.name] = value
    return params, errors


def _own_video(value: str) -> bool:
    """A finished generation's link picked from this history: it came from the API itself."""
    return value in session.own_video_links()
