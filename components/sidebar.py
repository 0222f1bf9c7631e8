"""The sidebar: where the app is connected, the session key field, and what is still running."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import services
from components.formatting import seconds
from components.markdown import excerpt
from videogen.connection import Connection
from videogen.errors import ApiError, AuthenticationError
from videogen.generation import Status

TICK_SECONDS = 2.0
SHOWN_PENDING = 5


def render(conn: Connection, source: services.KeySource) -> DeltaGenerator:
    """Draw the sidebar; return the place for the key banner, which is filled after the page has run."""
    with st.sidebar:
        st.markdown("### :material/movie_filter: Video Playground")
        _account()
        _connection_status(conn, source)
        banner = st.container()
        _key_field(source)
        _budget(conn)
        st.divider()
        _live_pending(conn)
    return banner


def _account() -> None:
    """With sign-in on: who is signed in, the switch to the team's generations, and Sign out."""
    user = services.signed_in_user()
    if not user:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(f":material/account_circle: {services.as_code(user)}", help="Signed in")
        st.space("stretch")
        st.button("Sign out", key="sign-out", type="tertiary", on_click=st.logout)
    st.toggle("Show the team's generations", key=services.TEAM_VIEW_KEY,
              help="Off: only yours, on Generate and in History. Only the person who made a generation can delete it.")


def sign_in_page() -> None:
    """What someone who is not signed in sees, when sign-in is on: nothing of the history."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.markdown("## :material/movie_filter: Video Playground")
        st.write("Sign in to make videos and to see your team's history.")
        st.button("Sign in", type="primary", icon=":material/login:", key="sign-in", on_click=st.login)


def _connection_status(conn: Connection, source: services.KeySource) -> None:
    if conn.is_demo:
        st.badge("Demo mode", icon=":material/science:", color="violet")
        st.caption("Generations run on the built-in simulator: free, about "
                   f"{seconds(conn.schedule_for('veo2').typical)} each, with placeholder videos.")
    else:
        host = urlsplit(conn.base_url).hostname or conn.base_url
        st.badge("Live API", icon=":material/cloud_done:", color="green")
        st.caption(f"Connected to {host} with key {conn.key_hint} (from {source.origin}).")


def _budget(conn: Connection) -> None:
    """Spend with this key, against the budget: the configured one, or one set here for this session."""
    if services.configured_budget() is None:
        st.number_input(
            "Budget (credits)", min_value=0, step=100_000, value=None, key=services.BUDGET_KEY, placeholder="No budget",
            help="For this session. A request whose estimated cost is more than what is left is refused. "
                 "PLAYGROUND_BUDGET_CREDITS sets one for everybody.",
        )
    spent = conn.store.credits_spent(conn.server, conn.account)
    if (limit := services.budget_credits()) is not None:
        st.progress(min(spent / limit, 1.0) if limit else 1.0, text=f"{spent:,.0f} of {limit:,.0f} credits spent")
    else:
        st.caption(f":material/payments: {spent:,.0f} credits spent with this key.")


def _key_field(source: services.KeySource) -> None:
    if source.origin in ("secrets.toml", "environment"):
        return
    if source.origin == "this session":
        st.button("Forget this key", icon=":material/key_off:", on_click=_forget_key, width="stretch")
        return
    st.text_input(
        "API key",
        type="password",
        key="key_field",
        on_change=_accept_key,
        placeholder="Paste a key to use the real API",
        help="Kept in this server's memory for this browser session only; never saved or shown.",
    )


def _accept_key() -> None:
    # Move the key out of the widget so the page no longer holds it.
    key = st.session_state.get("key_field", "").strip()
    st.session_state["key_field"] = ""
    if key:
        st.session_state[services.SESSION_KEY] = key


def _forget_key() -> None:
    st.session_state.pop(services.SESSION_KEY, None)


def _live_pending(conn: Connection) -> None:
    """What is still running. Ticks only while something is, and reruns the page when something finishes."""

    scope = services.owner_scope()

    @st.fragment(run_every=TICK_SECONDS if conn.pending_ids(scope) else None)
    def live() -> None:
        pending_ids = conn.pending_ids(scope)
        seen: set[str] = st.session_state.setdefault("seen_pending", set())
        if seen - pending_ids:
            # Something finished: a full run shows it everywhere, toasts it, and stops the ticking if idle.
            st.rerun(scope="app")
        seen |= pending_ids
        if not pending_ids:
            st.caption(":material/check: Nothing running.")
            return
        st.markdown(f"**{len(pending_ids)} running**")
        now = time.time()
        for record in conn.pending(limit=SHOWN_PENDING, owner=scope):
            st.caption(f"{seconds(now - record.created_at)} · {excerpt(record.prompt, 40)}")
        if len(pending_ids) > SHOWN_PENDING:
            st.caption(f"and {len(pending_ids) - SHOWN_PENDING} more")

    live()


def announce_finished(conn: Connection) -> None:
    """Toast each generation this tab saw running that has since finished, once. Runs on every full run."""
    pending_ids = conn.pending_ids(services.owner_scope())
    seen: set[str] = st.session_state.get("seen_pending", set())
    done = conn.store.find(sorted(seen - pending_ids))
    st.session_state["seen_pending"] = pending_ids
    for record in done:
        if record.status is Status.COMPLETED:
            st.toast(f"Video ready: {excerpt(record.prompt)}", icon=":material/movie:")
        elif record.status is Status.FAILED:
            st.toast(f"Generation failed: {excerpt(record.prompt)}", icon=":material/error:")
        elif record.status is Status.LOST:
            st.toast(f"Generation lost: {excerpt(record.prompt)}", icon=":material/help:")


def auth_banner(conn: Connection, source: services.KeySource) -> None:
    """One clear banner when the server refuses the key or the account is out of credits."""
    problem: ApiError | None = conn.poller.auth_problem or st.session_state.get("create_auth_problem")
    if problem is None:
        return
    if isinstance(problem, AuthenticationError):
        st.error(
            f"**The API refused the key (401).** {_where_to_fix(source)} "
            "Polling is paused until the key works; nothing is lost.",
            icon=":material/key_off:",
        )
    else:
        st.error(
            "**The API says this account cannot generate (403)**, usually because its credits are used up. "
            "Top up at aimlapi.com; running generations are checked again automatically.",
            icon=":material/account_balance_wallet:",
        )


def _where_to_fix(source: services.KeySource) -> str:
    if source.origin == "this session":
        return "Press *Forget this key* above and paste another."
    where = "`.streamlit/secrets.toml`" if source.origin == "secrets.toml" else "the environment"
    return f"Check `AIMLAPI_API_KEY` in {where}, then restart the app."
