import streamlit as st

from components import generation_card, model_picker, prompt_form, recipe_restore, services

services.ensure_entry_point()
conn = services.connection()

st.title("Generate")
model = model_picker.render()
model_picker.link_notice()
prompt_form.render(conn, model)
recipe_restore.render(conn)
st.subheader("Your generations")
generation_card.card_grid(conn)
