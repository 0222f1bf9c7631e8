"""The Model choice above the form: a kind filter and one searchable list, grouped by vendor.

The link carries the model (`/?model=<id>`), so a shared link opens the same
form. Changing model keeps the values the new model takes and names the ones
it drops (`form_builder.reconcile`).
"""

from __future__ import annotations

import streamlit as st

from components import form_builder, session
from components.markdown import literal
from videogen import catalog

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
    session.setdefault(session.MODEL, DEFAULT)
    _take_link()
    if session.value(session.MODEL) not in catalog.models():
        session.assign(session.MODEL, DEFAULT)
    kind_col, model_col = st.columns([9, 11], vertical_alignment="bottom")  # room for the three kinds, unclipped
    with kind_col:
        st.segmented_control(
            "Kind",
            list(KIND_LABELS),
            format_func=KIND_LABELS.get,
            key=session.MODEL_KIND,
            on_change=_follow_kind,
            help="Show only models of one kind. Click the chosen kind again to show all.",
            persist_state="session",
        )
    kind = session.value(session.MODEL_KIND)
    with model_col:
        st.selectbox(
            "Model",
            ordered_ids(kind),
            key=session.MODEL,
            format_func=option_label,
            help="Type to search by name, vendor or id.",
            persist_state="session",
        )
    model = catalog.get(session.value(session.MODEL))
    last = session.last_model()
    if last and last != model.id and last in catalog.models():
        kept, dropped = form_builder.reconcile(catalog.get(last), model)
        message = f"Switched to {model.label}."
        if kept:
            message += " Kept: " + ", ".join(kept) + "."
        if dropped:
            message += " Dropped: " + "; ".join(dropped) + "."
        session.set_form_notice(literal(message))
    session.set_last_model(model.id)
    _write_link(model.id)
    return model


def _follow_kind() -> None:
    """A kind that excludes the chosen model moves the choice to that kind's first model."""
    kind = session.value(session.MODEL_KIND)
    current = session.value(session.MODEL)
    if kind and (current not in catalog.models() or catalog.get(current).kind != kind):
        first = ordered_ids(kind)
        session.assign(session.MODEL, DEFAULT if DEFAULT in first else first[0])


def _take_link() -> None:
    wanted = st.query_params.get("model")
    if not wanted or wanted == session.model_link():
        return
    session.set_model_link(wanted)
    if wanted in catalog.models():
        session.assign(session.MODEL, wanted)
        if (kind := session.value(session.MODEL_KIND)) and catalog.get(wanted).kind != kind:
            session.assign(session.MODEL_KIND, None)
    else:
        session.assign(session.MODEL, DEFAULT)
        session.set_link_model_notice(
            f"The link names a model this app does not know, {literal(repr(wanted))}; showing {catalog.get(DEFAULT).label} instead."
        )


def _write_link(model_id: str) -> None:
    """Keep ?model= in step with the choice, so the address can be shared; the default needs none."""
    if model_id == DEFAULT:
        if "model" in st.query_params:
            st.query_params.pop("model")
    elif st.query_params.get("model") != model_id:
        st.query_params["model"] = model_id
    session.set_model_link(st.query_params.get("model"))


def link_notice() -> None:
    if notice := session.take_link_model_notice():
        st.warning(notice, icon=":material/link_off:")
