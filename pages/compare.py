import streamlit as st

from components import blind_vote, compare_view, judge_queue, services

services.ensure_entry_point()
conn = services.connection()

st.title("Compare")
blind_vote.refusal()
# No st.stop() here: app.py fills in the sidebar's budget and running list once the page has run.
if judge_queue.wanted():  # ?judge=a,b,c: blind, two at a time
    judge_queue.render(conn.store)
else:
    blind = blind_vote.switch()
    records = compare_view.chosen(conn.store, picker=not blind)
    if len(records) < compare_view.MIN_SHOWN:
        st.info(
            "Blind compares 2 to 4 finished generations: turn it off to pick them, or open a batch or a selection "
            "of History rows in Compare."
            if blind
            else "Pick 2 to 4 finished generations above, or open a batch or a selection of History rows in Compare.",
            icon=":material/compare:",
        )
    elif blind:
        blind_vote.comparison(records, conn.store)
    else:
        compare_view.videos(records, conn.store, conn=conn)
        st.page_link(
            "pages/cut.py",
            label="Stitch these into one cut",
            icon=":material/movie:",
            query_params={"ids": ",".join(r.id for r in records)},
        )
        compare_view.parameter_table(records)
