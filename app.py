"""Video Playground: a Streamlit app for the AI/ML API video models.

Pages are in pages/, reusable pieces in components/, and every rule (what is
valid, when to poll, how a status maps) in the videogen engine.
"""

import streamlit as st

from components import frame_picker, services, session, sidebar, submit_actions, video_posters

st.set_page_config(page_title="Video Playground", page_icon="🎬", layout="wide")
session.init()

# With sign-in configured ([auth] in secrets.toml), nothing of the history shows before it.
if services.sign_in_configured() and not st.user.is_logged_in:
    # Through st.navigation too: without it Streamlit would list the pages/ files in the sidebar.
    st.navigation([st.Page(sidebar.sign_in_page, title="Sign in", icon=":material/login:")], position="hidden").run()
    st.stop()
if services.sign_in_configured() and not services.signed_in_user():
    # Signed in, but the provider named no issuer and subject: no one to keep generations for.
    st.navigation([st.Page(sidebar.no_identity_page, title="Sign in", icon=":material/login:")], position="hidden").run()
    st.stop()

source = services.resolve_key()
conn = services.connection(source)

generate = st.Page("pages/generate.py", title="Generate", icon=":material/movie_edit:", default=True)
history = st.Page("pages/history.py", title="History", icon=":material/history:")
compare = st.Page("pages/compare.py", title="Compare", icon=":material/compare:")
leaderboard = st.Page("pages/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:")
cut = st.Page("pages/cut.py", title="Cut", icon=":material/movie:")
page = st.navigation([generate, history, compare, leaderboard, cut])
if session.take_go_to_generate() and page.url_path != generate.url_path:
    # With the address's own (empty) parameters: clearing them, as a bare switch does, is refused while
    # History's View choice is bound to ?view=.
    st.switch_page(generate, query_params={})

sidebar.announce_finished(conn)
places = sidebar.render(conn, source)
if conn.is_demo:
    st.info(
        "**Demo mode.** Generations run on a built-in simulator and cost nothing. "
        "To use the real API, set `AIMLAPI_API_KEY` in the environment or in `.streamlit/secrets.toml`, "
        "or paste a key in the sidebar.",
        icon=":material/science:",
    )
try:
    page.run()
    frame_picker.show_if_open(conn)
finally:  # also when a page stops early (st.stop): the sidebar is whole on every page
    sidebar.finish(conn, source, places)
    video_posters.apply()
# Reached only by a run nothing cut short: a click that interrupted it was made before it showed.
submit_actions.page_shown()
