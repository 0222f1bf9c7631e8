import streamlit as st

from components import generation_card, prompt_form, services

services.ensure_entry_point()
conn = services.connection()

st.title("Generate")
st.caption("Google Veo 2 · text to video")
prompt_form.render(conn)
st.subheader("Your generations")
generation_card.card_grid(conn)
