"""The Model choice above the form: a kind filter and one searchable list, grouped by vendor.

The link carries the model (`/?model=<id>`), so a shared link opens the same
form. Changing model keeps the values the new model takes and names the ones
it drops (`form_builder.reconcile`).
"""

from __future__ import annotations

import streamlit as st

from components import form_builder
from components.markdown import literal
from videogen import catalog

KEY = "gen_model"
LAST_KEY = "gen_model_last"  # the model the form showed on the previous run
KIND_KEY = "gen_model_kind"
LINK_KEY = "gen_model_link"  # the ?model= value already acted on
DEFAULT = catalog.DEFAULT_MODEL
KIND_LABELS = {"text-to-video": "Text to video", "image-to-video": "Image to video", "video-to-video": "Video to video"}


def option_label(model_id: str) -> str:
    model = catalog.get(model_id)
    return f"{model.vendor} › {model.option_label}"


def ordered_ids(kind: str | None = None) -> list[str]:
    """Every model (or those of one kind), grouped by vendor, then by name."""
    models = [m for m in catalog.models().values() if kind is None or m.kind == kind]
    return [m.id for m in sorted(models, key=lambda m: (m.vendor.lower(), m.name.lower(), m.kind, m.id))]


def render() -> catalog.Model:
    """Draw the picker; return the chosen model. Says so when a link names a model that does not exist."""
    st.session_state.setdefault(KEY, DEFAULT)
    _take_link()
    if st.session_state.get(KEY) not in catalog.models():
        st.session_state[KEY] = DEFAULT
    kind_col, model_col = st.columns([9, 11], vertical_alignment="bottom")  # room for the three kinds, unclipped
    with kind_col:
        st.segmented_control(
            "Kind", list(KIND_LABELS), format_func=KIND_LABELS.get, key=KIND_KEY, on_change=_follow_kind,
            help="Show only models of one kind. Click the chosen kind again to show all.", persist_state="session",
        )
    kind = st.session_state.get(KIND_KEY)
    with model_col:
        st.selectbox(
            "Model", ordered_ids(kind), key=KEY, format_func=option_label,
            help="Type to search by name, vendor or id.", persist_state="session",
        )
    model = catalog.get(st.session_state[KEY])
    last = st.session_state.get(LAST_KEY)
    if last and last != model.id and last in catalog.models():
        kept, dropped = form_builder.reconcile(catalog.get(last), model)
        message = f"Switched to {model.label}."
        if kept:
            message += " Kept: " + ", ".join(kept) + "."
        if dropped:
            message += " Dropped: " + "; ".join(dropped) + "."
        st.session_state["form_notice"] = literal(message)
    st.session_state[LAST_KEY] = model.id
    _write_link(model.id)
    return model


def _follow_kind() -> None:
    """A kind that excludes the chosen model moves the choice to that kind's first model."""
    kind = st.session_state.get(KIND_KEY)
    current = st.session_state.get(KEY)
    if kind and (current not in catalog.models() or catalog.get(current).kind != kind):
        first = ordered_ids(kind)
        st.session_state[KEY] = DEFAULT if DEFAULT in first else first[0]


def _take_link() -> None:
    wanted = st.query_params.get("model")
    if not wanted or wanted == st.session_state.get(LINK_KEY):
        return
    st.session_state[LINK_KEY] = wanted
    if wanted in catalog.models():
        st.session_state[KEY] = wanted
        if st.session_state.get(KIND_KEY) and catalog.get(wanted).kind != st.session_state[KIND_KEY]:
            st.session_state[KIND_KEY] = None
    else:
        st.session_state[KEY] = DEFAULT
        st.session_state["link_model_notice"] = (
            f"The link names a model this app does not know, {literal(repr(wanted))}; showing {catalog.get(DEFAULT).label} instead."
        )


def _write_link(model_id: str) -> None:
    """Keep ?model= in step with the choice, so the address can be shared; the default needs none."""
    if model_id == DEFAULT:
        if "model" in st.query_params:
            st.query_params.pop("model")
    elif st.query_params.get("model") != model_id:
        st.query_params["model"] = model_id
    st.session_state[LINK_KEY] = st.query_params.get("model")


def link_notice() -> None:
    if notice := st.session_state.pop("link_model_notice", None):
        st.warning(notice, icon=":material/link_off:")
