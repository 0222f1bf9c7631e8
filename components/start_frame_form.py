"""Make a start frame: an image model of the same key draws the picture an image-to-video model starts from.

The image model's form comes from the same builder as the video form (its values under "img_"), the
picture is kept as an upload and put in the chosen image field, and the call is recorded with its prompt,
model, seed and cost (`Connection.make_start_frame`). A refusal or failure is said beside the form.
"""

from __future__ import annotations

import streamlit as st

from components import form_builder, services, session
from components.formatting import model_name
from components.markdown import literal
from videogen import catalog, spend, start_frames
from videogen.api import ApiError, RefusedError
from videogen.catalog import Model, Param
from videogen.connection import Connection

IMAGE_MODEL = "img__model"
TARGET_FIELD = "img__field"
PROBLEM = "img__problem"
#: A quick, cheap model to start from; any of the catalog's text-to-image models can be chosen.
DEFAULT_IMAGE_MODEL = "flux/schnell"


def fields_for(model: Model) -> list[Param]:
    """The video model's image fields a drawn picture can go in: single images sent as Base64."""
    return [p for p in model.params if p.media == "image" and not p.is_list and p.accepts_base64 and "mask" not in p.name]


def panel(conn: Connection, model: Model) -> None:
    targets = fields_for(model)
    if not targets:
        return
    with st.expander("Make a start frame", icon=":material/brush:", expanded=bool(session.value(PROBLEM))):
        ids = sorted(catalog.image_models(), key=model_name)
        if session.value(IMAGE_MODEL) not in ids:
            session.assign(IMAGE_MODEL, DEFAULT_IMAGE_MODEL if DEFAULT_IMAGE_MODEL in ids else ids[0])
        image_model = catalog.get_image(st.selectbox("Image model", ids, key=IMAGE_MODEL, format_func=model_name))
        form_builder.prepare(image_model)
        slots = form_builder.draw_fields(image_model, advanced=False)
        if any(f.advanced and f.widget != "media" for f in form_builder.layout(image_model.id)):
            with st.expander("Advanced", icon=":material/tune:"):
                slots |= form_builder.draw_fields(image_model, advanced=True)
        names = [p.name for p in targets]
        if session.value(TARGET_FIELD) not in names:
            session.assign(TARGET_FIELD, names[0])
        if len(names) > 1:
            st.segmented_control(
                "Put it in", names, key=TARGET_FIELD, required=True, format_func=lambda n: n.replace("_url", "").replace("_", " ")
            )
        if problem := session.value(PROBLEM):
            st.error(literal(problem), icon=":material/error:")
        if st.button("Draw it", icon=":material/brush:", key="img-draw", help="One paid picture from the image model"):
            target = next(p for p in targets if p.name == session.value(TARGET_FIELD))
            _draw(conn, model, image_model, target, slots)


def _draw(conn: Connection, video_model: Model, image_model: Model, target: Param, slots: dict) -> None:
    params, problems = form_builder.raw_values(image_model, {})
    checked = catalog.validate(image_model, params)
    errors = {**checked.errors, **problems}
    if errors:
        for name, message in errors.items():
            (slots.get(name) or st).error(literal(message), icon=":material/error:")
        return
    try:
        with st.spinner(f"{model_name(image_model.id)} is drawing…"):
            frame, _ = conn.make_start_frame(checked.body, target, owner=services.signed_in_user(), budget=services.budget())
    except RefusedError as exc:
        session.assign(PROBLEM, f"{model_name(image_model.id)} would not draw it: {exc}")
    except start_frames.StartFrameError as exc:
        session.assign(PROBLEM, f"The picture could not be kept: {exc.reason}")
    except spend.OverBudgetError as exc:
        session.assign(PROBLEM, exc.message)
    except ApiError as exc:
        session.assign(PROBLEM, f"{model_name(image_model.id)} did not draw it: {exc}")
    else:
        session.forget(PROBLEM)
        session.set_upload_refs(form_builder.key(target.name), [frame.reference])
        cost = f" for ${frame.cost_usd:.3f}" if frame.cost_usd is not None else ""
        seed = f", seed {frame.seed}" if frame.seed is not None else ""
        label = next((f.label for f in form_builder.layout(video_model.id) if f.name == target.name), target.name)
        session.set_form_notice(f"{model_name(image_model.id)} drew the start frame{cost}{seed}. It is the form's {label.lower()}.")
    st.rerun()
