"""History's selection in the address: `?gen=<id>` names one generation, and follows the table's selection.

A link wins over what this session had selected, so a shared or reloaded link
opens that generation. One to a generation this history does not hold, or that
the page does not show (someone else's, outside the team's view), is named and
set aside. The selection itself is kept for the session by id.
"""

from __future__ import annotations

import streamlit as st

from components import services, session
from videogen.store import Store

PARAM = "gen"


def preselect(store: Store, scope: str | None) -> tuple[list[str], str | None]:
    """The ids to select when the table is drawn, and the generation a link has just named (None: none new).

    `scope`: whose generations the page shows (None: everyone's).
    """
    wanted = st.query_params.get(PARAM)
    if wanted and (linked_record := store.get(wanted)) is None:
        st.warning("That link points to a generation that is not in this history.", icon=":material/link_off:")
        wanted = None
    elif wanted and scope is not None and linked_record.owner != scope:
        who = services.as_code(services.owner_label(linked_record.owner)) if linked_record.owner else "someone before sign-in"
        st.info(
            f"That link is to a generation made by {who}: turn on **Show the team's generations** in the sidebar to see it.",
            icon=":material/group:",
        )
        wanted = None
    kept = session.history_selection()
    linked = wanted if wanted and wanted not in kept else None
    return ([linked] if linked else kept), linked


def follow(selected: list[str]) -> None:
    """Keep the table's selection for this session, and in the address while it is one generation."""
    session.set_history_selection(selected)
    if len(selected) == 1:
        st.query_params[PARAM] = selected[0]
    else:
        st.query_params.pop(PARAM, None)
