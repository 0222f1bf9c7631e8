import streamlit as st

from components import gallery, history_link, history_table, prompt_list, services
from videogen import history

services.ensure_entry_point()
conn = services.connection()

st.title("History")
# Signed in: yours, unless the sidebar shows the team's (scope None: everyone's, as with sign-in off).
scope = services.owner_scope()
# Built once per change to the store, not per page run: a history of 10,000 rows opens as fast as one of 100.
every_row = history.rated_frame(conn.store, by=services.signed_in_user(), link_prefix=history_table.VIDEO_LINK_PREFIX)
if every_row.empty:
    st.info("Nothing generated yet. Videos you generate are kept here, across reloads and restarts.", icon=":material/history:")
    st.stop()

everything = history.filter_frame(every_row, owner=scope)
if everything.empty:  # signed in, nothing of one's own yet, and the team has some
    made = f"{len(every_row):,} generation" + ("s" if len(every_row) != 1 else "")
    st.info(
        f"Nothing of yours yet. The team has made {made}: turn on **Show the team's generations** in the sidebar to see them.",
        icon=":material/group:",
    )
    st.stop()
chosen = history_table.filters(everything)
frame = history.filter_frame(everything, **chosen)
shown = frame["id"].tolist()

with st.container(horizontal=True, vertical_alignment="center"):
    view = gallery.view()
    st.caption(f"Showing {len(shown):,} of {len(everything):,} generations")
    history_table.exports(conn.store, shown)
st.space("small")  # room for the table's hover toolbar, which would cover the export buttons

# One generation can be named in the link (?gen=<id>); it wins over what this session had selected.
preselected, linked = history_link.preselect(conn.store, scope)
if linked and linked not in shown:  # most often rejected, since Hide rejected starts on
    st.info(
        "The generation that link names is hidden by the filters above: rejected ones are hidden while **Hide rejected** is on.",
        icon=":material/filter_alt:",
    )
owners = services.sign_in_configured() and scope is None  # the team's view: say who made each
if view == "Gallery":
    selected = gallery.show(conn, frame, preselected, linked=linked, owners=owners)
elif view == "Table":
    selected = history_table.table(frame, preselected, conn.store.version(), linked=linked, owners=owners)
else:  # Prompts: searched as whole prompts, spacing aside, as the list groups them
    unsearched = history.filter_frame(everything, **(chosen | {"search": ""}))
    selected = prompt_list.show(conn, unsearched, preselected, search=chosen["search"])
history_link.follow(selected)
if selected:
    history_table.selection_actions(conn, conn.store.find(selected))
if len(selected) == 1 and (record := conn.store.get(selected[0])):
    history_table.details(conn, record)
history_table.spend_panel(frame)
