import streamlit as st

from components import compare_view, services

services.ensure_entry_point()
conn = services.connection()

st.title("Compare")
records = compare_view.chosen(conn.store)
if len(records) < compare_view.MIN_SHOWN:
    st.info(
        "Pick 2 to 4 finished generations above, or open a batch or a selection of History rows in Compare.",
        icon=":material/compare:",
    )
    st.stop()
compare_view.videos(records, conn.store)
compare_view.parameter_table(records)
