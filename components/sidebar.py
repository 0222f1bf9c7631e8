"""The sidebar: where the app is connected, the session key field, and what is still running."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import assert_never
from urllib.parse import urlsplit

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import services, session
from components.formatting import seconds
from components.markdown import excerpt, literal
from videogen import spend
from videogen.api import ApiError, AuthenticationError, PermissionDeniedError, Status
from videogen.connection import Connection

TICK_SECONDS = 2.0
SHOWN_PENDING = 5


@dataclass(frozen=True)
class Places:
    """Parts of the sidebar filled after the page has run, so that what this run sent shows at once."""

    banner: DeltaGenerator
    budget: DeltaGenerator
    pending: DeltaGenerator


def render(conn: Connection, source: services.KeySource) -> Places:
    """Draw the sidebar; return the places `finish` fills once the page has run."""
    with st.sidebar:
        st.markdown("### :material/movie_filter: Video Playground")
        _account()
        _connection_status(conn, source)
        banner = st.container()
        _key_field(source)
        budget = st.container()
        st.divider()
        pending = st.container()
    return Places(banner, budget, pending)


def finish(conn: Connection, source: services.KeySource, places: Places) -> None:
    """The key banner, the spend against the budget and what is running, as this run left them: a submission's
    refusal, its cost and the new generation show without waiting for another run."""
    with places.banner:
        auth_banner(conn, source)
    with places.budget:
        _budget(conn)
    with places.pending:
        _live_pending(conn)


def _account() -> None:
    """With sign-in on: who is signed in, the switch to the team's generations, and Sign out."""
    name = services.signed_in_name()
    if not name:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(
            f":material/account_circle: {services.as_code(name)}",
            help="Signed in. An address the provider has not verified is marked so: it is shown, never trusted.",
        )
        st.space("stretch")
        st.button("Sign out", key="sign-out", type="tertiary", on_click=st.logout)
    st.toggle(
        "Show the team's generations",
        key=session.TEAM_VIEW,
        help="Off: only yours, on Generate, in History and in Compare. Only the person who made a generation "
        "can star, annotate or delete it.",
    )


def sign_in_page() -> None:
    """What someone who is not signed in sees, when sign-in is on: nothing of the history."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.markdown("## :material/movie_filter: Video Playground")
        st.write("Sign in to make videos and to see your team's history.")
        st.button("Sign in", type="primary", icon=":material/login:", key="sign-in", on_click=st.login)


def no_identity_page() -> None:
    """Signed in with a provider that gave no issuer and subject: shown instead of anything of the history."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.error(
            "The sign-in provider did not say who you are (its answer has no issuer and subject), "
            "so this app cannot keep your generations apart from anyone else's.",
            icon=":material/person_off:",
        )
        st.button("Sign out", key="sign-out", on_click=st.logout)


def _connection_status(conn: Connection, source: services.KeySource) -> None:
    if conn.is_demo:
        st.badge("Demo mode", icon=":material/science:", color="violet")
        st.caption(
            "Generations run on the built-in simulator: free, about "
            f"{seconds(conn.schedule_for('veo2').typical)} each, with placeholder videos."
        )
    else:
        host = urlsplit(conn.base_url).hostname or conn.base_url
        st.badge("Live API", icon=":material/cloud_done:", color="green")
        st.caption(f"Connected to {host} with key {conn.key_hint} (from {source.origin}).")


def _budget(conn: Connection) -> None:
    """Spend with this key, against the budget: the configured one, or one set here for this session."""
    if services.configured_budget() is None:
        st.number_input(
            "Budget ($)",
            min_value=0.0,
            step=5.0,
            format="%.2f",
            value=None,
            key=session.BUDGET_USD,
            placeholder="No budget",
            help="For this session. Each request's price is set aside when it is sent; one that does not fit what "
            "is left is refused. PLAYGROUND_BUDGET_USD sets one for everybody.",
        )
    user = services.signed_in_user()
    spending = conn.store.spending(conn.server, conn.account)
    if (limit := services.budget_credits()) is not None:
        st.progress(
            min(spending.total / limit, 1.0) if limit else 1.0, text=literal(f"{spend.money(spending.total)} of {spend.money(limit)} spent")
        )
    else:
        st.caption(f":material/payments: {literal(spend.money(spending.total))} spent with this key.")
    if spending.reserved:
        st.caption(literal(f"Of that, {spend.money(spending.reserved)} is set aside for generations that reported no cost yet."))
    if spending.chat:
        st.caption(literal(f"Of that, {spend.money(spending.chat)} went to Improve prompt's chat model."))
    if spending.images:
        st.caption(literal(f"Of that, {spend.money(spending.images)} went to start frames drawn by image models."))
    if user and (own := services.budget().per_person) is not None:
        mine = conn.store.spending(conn.server, conn.account, user)
        st.progress(min(mine.total / own, 1.0) if own else 1.0, text=literal(f"Yours: {spend.money(mine.total)} of {spend.money(own)}"))


def _key_field(source: services.KeySource) -> None:
    match source.origin:
        case "secrets.toml" | "environment":
            return
        case "this session":
            st.button("Forget this key", icon=":material/key_off:", on_click=_forget_key, width="stretch")
            return
        case "none":
            pass
        case unknown:
            assert_never(unknown)
    st.text_input(
        "API key",
        type="password",
        key=session.KEY_FIELD,
        on_change=_accept_key,
        placeholder="Paste a key to use the real API",
        help="Kept in this server's memory for this browser session only; never saved or shown.",
    )


def _accept_key() -> None:
    # Move the key out of the widget so the page no longer holds it.
    if key := session.take_key_field():
        session.set_session_api_key(key)


def _forget_key() -> None:
    session.forget_session_api_key()


def _live_pending(conn: Connection) -> None:
    """What is still running. Ticks only while something is, and reruns the page when something finishes."""

    scope = services.owner_scope()

    @st.fragment(run_every=TICK_SECONDS if conn.pending_ids(scope) else None)
    def live() -> None:
        pending_ids = conn.pending_ids(scope)
        seen = session.seen_pending()
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
    done = conn.store.find(sorted(session.seen_pending() - pending_ids))
    session.set_seen_pending(pending_ids)
    for record in done:
        if record.status is Status.COMPLETED:
            st.toast(f"Video ready: {excerpt(record.prompt)}", icon=":material/movie:")
        elif record.status is Status.FAILED:
            st.toast(f"Generation failed: {excerpt(record.prompt)}", icon=":material/error:")
        elif record.status is Status.LOST:
            st.toast(f"Generation lost: {excerpt(record.prompt)}", icon=":material/help:")


def auth_banner(conn: Connection, source: services.KeySource) -> None:
    """One clear banner when the server refuses the key or the account is out of credits (polling waits for both)."""
    problem: ApiError | None = conn.poller.auth_problem or session.auth_problem()
    if problem is None:
        return
    if isinstance(problem, AuthenticationError):
        st.error(
            f"**The API refused the key (401).** {_where_to_fix(source)} Polling is paused until the key works; nothing is lost.",
            icon=":material/key_off:",
        )
    elif isinstance(problem, PermissionDeniedError) and problem.out_of_credits:
        st.error(
            "**The API says this account cannot generate (403): its credits are used up.** "
            "Top up at aimlapi.com; running generations are checked again automatically.",
            icon=":material/account_balance_wallet:",
        )
    else:
        # A 403 that says nothing of credits is the server's refusal of that request, in its own words.
        st.error(
            f"**The API refused the request (403).** {literal(problem.message)}",
            icon=":material/block:",
        )


def _where_to_fix(source: services.KeySource) -> str:
    match source.origin:
        case "this session":
            return "Press *Forget this key* above and paste another."
        case "secrets.toml":
            return "Check `AIMLAPI_API_KEY` in `.streamlit/secrets.toml`, then restart the app."
        case "environment" | "none":
            # "none": demo mode's key is the simulator's own and is never refused; the environment is where one goes.
            return "Check `AIMLAPI_API_KEY` in the environment, then restart the app."
        case unknown:
            assert_never(unknown)
