import streamlit as st

from components import cut_editor, services, session

services.ensure_entry_point()
conn = services.connection()

st.title("Cut")
wanted = cut_editor.source()
# No st.stop() here: app.py fills in the sidebar's budget and running list once the page has run.
if wanted is None:
    st.info(
        "Open a chain from a shot's card (**Chain**), or select finished videos in History and press **Stitch into a cut**. "
        "A single video can be made into a loop here too.",
        icon=":material/movie:",
    )
elif wanted[0] == "cut":
    if (cut := conn.store.get_cut(wanted[1][0])) is None:
        st.warning("That cut is not in this history.", icon=":material/link_off:")
    else:
        cut_editor.show_cut(conn, cut)
else:
    kind, ids = wanted
    shot_ids = cut_editor.shot_ids(conn.store, kind, ids)
    if not shot_ids:
        st.warning("That generation is not in this history.", icon=":material/link_off:")
    else:
        key, takes = cut_editor.draft(kind, ids, shot_ids)
        st.caption(
            "A chain: each shot starts from a frame of the one before." if kind == "chain" else "The shots in the order they will play."
        )
        usable = cut_editor.editor(conn, key, takes) if takes else []
        if not takes:
            st.info("Every shot was dropped. Reload the page to start again.", icon=":material/movie:")
        elif usable:
            shots = cut_editor.shots_of(usable)
            if len(shots) == 1:
                st.caption("One shot: it can be trimmed and made into a loop; stitching needs two or more.")
                take, record, video = usable[0]
                cut_editor.loop_panel(conn, video, key=f"video-{record.id}", in_s=take.in_s, out_s=take.out_s)
            else:
                plan = cut_editor.plan_line(shots)
                title = st.text_input("Title", value=f"{len(shots)} shots", key=f"{key}-title", max_chars=120)
                if st.button("Stitch", type="primary", icon=":material/movie:", disabled=plan is None, key="cut-stitch"):
                    cut_editor.stitch(conn, shots, title)  # shown below, as this tab's last cut
        last = session.value(cut_editor.LAST_CUT)
        if last and (cut := conn.store.get_cut(last)) is not None:
            st.divider()
            cut_editor.show_cut(conn, cut)
cut_editor.recent(conn)
