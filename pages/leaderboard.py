import streamlit as st

from components import leaderboard_view, services

services.ensure_entry_point()
conn = services.connection()

st.title("Leaderboard")
# No st.stop() here: app.py fills in the sidebar's budget and running list once the page has run.
if not (every_vote := conn.store.votes()):
    leaderboard_view.no_votes_yet()
else:
    counted = conn.store.votes(**leaderboard_view.filters(every_vote))
    board = leaderboard_view.fitted(counted)
    if not board.standings:
        leaderboard_view.nothing_to_rank(counted)
    else:
        leaderboard_view.summary(board, counted)
        leaderboard_view.table(board)
        leaderboard_view.chart(board)
