"""Restore from a video: drop an MP4 saved by this app, here or on another deployment, and its recipe refills the form.

The recipe is read in the file drop's callback, before the form's widgets are drawn, so the form can take its
values in the same run. What this deployment cannot take (a model or field it lacks, an upload it does not
hold) is named in the form's notice; a file that holds no recipe, or a damaged one, is named as such and the
form is left exactly as it was.
"""

from __future__ import annotations

import streamlit as st

from components import prompt_form, session
from components.markdown import literal
from videogen import recipe
from videogen.connection import Connection


def render(conn: Connection) -> None:
    with st.expander("Restore from a video", icon=":material/settings_backup_restore:"):
        st.caption("Drop an MP4 saved by this playground, here or elsewhere: the request inside it refills the form for its model.")
        st.file_uploader(
            "A video saved by this playground",
            type=["mp4", "m4v", "mov"],
            key=session.RESTORE_UPLOAD,
            on_change=_dropped,
            args=(conn,),
            label_visibility="collapsed",
        )
    # Below the expander, not in it: the run after a drop may draw it folded.
    if problem := session.take_restore_problem():
        st.error(literal(problem), icon=":material/settings_backup_restore:")


def _dropped(conn: Connection) -> None:
    upload = session.value(session.RESTORE_UPLOAD)
    if upload is None:
        return
    try:
        found = recipe.read_recipe(upload.getvalue())
    except recipe.RecipeError as exc:
        session.set_restore_problem(f"{upload.name}: {exc.reason} Nothing in the form changed.")
        return
    restored = recipe.restore(found, conn.store.data_dir)
    if restored.request is None:
        session.set_restore_problem(f"{upload.name}: {' '.join(restored.problems)} Nothing in the form changed.")
        return
    # Its version, when the generation is in this history; from another deployment the recipe stands alone.
    here = conn.store.get(found.generation_id) is not None
    prompt_form.load_into_form(restored.request, parent_id=found.generation_id if here else None)
    source = f"generation {found.generation_id}" if here else f"generation {found.generation_id}, made on another deployment,"
    notice = f"Restored the recipe of {source} from {upload.name} ({restored.model})."
    if restored.problems:
        notice += " Left out: " + " ".join(restored.problems)
    session.set_form_notice(literal(notice + " Edit it, then press Generate."))
