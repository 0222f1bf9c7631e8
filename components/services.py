"""The app's one connection to the engine, and where its settings come from.

The API key is looked for in this order: `st.secrets`, the environment
(AIMLAPI_API_KEY, then AIML_API_KEY), and the sidebar's password field, which
lasts for the browser session only. With none, the app runs in demo mode
against the embedded simulator. The key is only ever held in memory.
"""

from __future__ import annotations

import os
import runpy
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from videogen.api import CREDITS_PER_USD, api_key_from_env, base_url_from_env
from videogen.connection import Connection, account_of, connect
from videogen.spend import Budget
from videogen.store import DatabaseError, Record, data_dir_from_env
from videogen.store import database_url as database_url_from_env

SESSION_KEY = "session_api_key"
APP_PATH = Path(__file__).resolve().parent.parent / "app.py"


@dataclass(frozen=True)
class KeySource:
    key: str | None
    origin: str  # "secrets.toml", "environment", "this session", or "" in demo mode


def _secret(name: str) -> str | None:
    try:
        value = st.secrets.get(name)
    except Exception:  # no secrets.toml, or an unreadable one: same as not set
        return None
    return str(value).strip() or None if value else None


# -- sign-in (optional: on when secrets.toml has an [auth] section) ---------------------------

TEAM_VIEW_KEY = "team_view"  # the sidebar's switch: the whole team's generations, not only mine


def sign_in_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml, or an unreadable one: no sign-in
        return False


def signed_in_user() -> str:
    """Who is signed in, as the key their generations are kept under: `<issuer>#<subject>`; '' with sign-in off.

    The provider's issuer and subject, never the e-mail claim: a subject is unique and never reassigned
    within its issuer, where an address can be typed unverified, or change hands. '' too when the provider
    named neither (app.py then shows nothing of the history).
    """
    if not sign_in_configured() or not st.user.is_logged_in:
        return ""
    return identity(st.user.get("iss"), st.user.get("sub"))


def identity(issuer: object, subject: object) -> str:
    """The owner recorded for a person: `<issuer>#<subject>`, or '' when either is missing."""
    if not isinstance(issuer, str) or not isinstance(subject, str) or not issuer.strip() or not subject.strip():
        return ""
    return f"{issuer}#{subject}"  # as the provider sent them: a subject is opaque and compared exactly


MAX_PEOPLE = 10_000  # names remembered per process; past that the map starts again


def signed_in_name() -> str:
    """How the signed-in person reads on the page, never a key: the e-mail, marked "(unverified)" unless the
    provider says it verified it; without an e-mail, their name, else their subject. '' with sign-in off."""
    user = signed_in_user()
    if not user:
        return ""
    email = str(st.user.get("email") or "").strip()
    if email:
        name = email if _verified(st.user.get("email_verified")) else f"{email} (unverified)"
    else:
        name = str(st.user.get("name") or st.user.get("sub") or "").strip()
    people = _people()
    if people.get(user) != name:
        if len(people) >= MAX_PEOPLE:
            people.clear()
        people[user] = name
    return name


def _verified(claim: object) -> bool:
    # Most providers send a boolean; some (Cognito among them) send the string "true".
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


@st.cache_resource(show_spinner=False)
def _people() -> dict[str, str]:
    """identity -> name, for everyone signed in to this process since it started: how their generations'
    maker reads to the rest of the team. Not kept in the store: another process, or a restart, shows the
    identity itself until that person signs in there."""
    return {}


def owner_label(owner: str) -> str:
    """How a generation's maker reads: as they last read here when signed in, else their identity;
    '' for a generation from before sign-in."""
    if not owner:
        return ""
    if owner == signed_in_user():
        return signed_in_name()
    return _people().get(owner, owner)


def may_change(record: Record) -> bool:
    """Whether this person may star, annotate or delete `record`: with sign-in on, only its maker."""
    user = signed_in_user()
    return not user or record.owner == user


def as_code(user: str) -> str:
    """A person's name or id as a markdown code span: as plain text, an e-mail address would become a mailto link."""
    return "`{}`".format(" ".join(user.replace("`", "'").split()))


def owner_scope() -> str | None:
    """Whose generations the pages show: the signed-in person's, unless they switched to the team's.
    None means everyone's, as it always is with sign-in off."""
    user = signed_in_user()
    if not user or st.session_state.get(TEAM_VIEW_KEY):
        return None
    return user


def resolve_key() -> KeySource:
    for name in ("AIMLAPI_API_KEY", "AIML_API_KEY"):
        if key := _secret(name):
            return KeySource(key, "secrets.toml")
    if key := api_key_from_env():
        return KeySource(key, "environment")
    if key := st.session_state.get(SESSION_KEY):
        return KeySource(key, "this session")
    return KeySource(None, "")


def base_url() -> str:
    return _secret("AIMLAPI_BASE_URL") or base_url_from_env()


def data_dir() -> Path:
    return data_dir_from_env().resolve()


def database_url() -> str:
    """DATABASE_URL (environment, then secrets.toml): PostgreSQL for a team; empty for SQLite in the data dir."""
    return database_url_from_env() or (_secret("DATABASE_URL") or "").strip()


def _seconds_from_env(name: str, default: float | None) -> float | None:
    try:
        return max(0.1, float(os.environ[name]))
    except (KeyError, ValueError):
        return default


BUDGET_KEY = "budget_usd"  # the sidebar's field, in dollars, for this session


def _amount(stem: str) -> float | None:
    """A sum of money set as <stem>_USD or <stem>_CREDITS (environment, then secrets.toml), in credits."""
    for suffix, scale in (("_CREDITS", 1.0), ("_USD", float(CREDITS_PER_USD))):
        text = os.environ.get(stem + suffix, "").strip() or _secret(stem + suffix)
        if text:
            try:
                return max(0.0, float(text)) * scale
            except ValueError:
                continue
    return None


def configured_budget() -> float | None:
    """PLAYGROUND_BUDGET_USD or PLAYGROUND_BUDGET_CREDITS: the key's budget, in credits; None when unset."""
    return _amount("PLAYGROUND_BUDGET")


def budget_credits() -> float | None:
    """The key's budget in credits: the configured one, else the sidebar's for this session; None: no budget."""
    configured = configured_budget()
    if configured is not None:
        return configured
    value = st.session_state.get(BUDGET_KEY)
    return float(value) * CREDITS_PER_USD if value else None


def budget() -> Budget:
    """Every limit a request must fit: the key's budget, each signed-in person's own
    (PLAYGROUND_PERSON_BUDGET_USD / _CREDITS), and what to count a request of unknown price at
    (PLAYGROUND_UNPRICED_CEILING_USD / _CREDITS)."""
    return Budget(
        limit=budget_credits(),
        per_person=_amount("PLAYGROUND_PERSON_BUDGET") if signed_in_user() else None,
        unpriced_ceiling=_amount("PLAYGROUND_UNPRICED_CEILING"),
    )


def demo_seconds() -> float:
    """How long a demo generation takes (PLAYGROUND_DEMO_SECONDS, default 10)."""
    return _seconds_from_env("PLAYGROUND_DEMO_SECONDS", 10.0)


def typical_seconds() -> float | None:
    """PLAYGROUND_TYPICAL_SECONDS: how long the server usually takes, when it is not the catalog's figure
    (a self-hosted or test server). It sets when generations are polled and the time-left estimate."""
    return _seconds_from_env("PLAYGROUND_TYPICAL_SECONDS", None)


class _Connections:
    """Open connections by (key fingerprint, server, data dir). Shared by every session: thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str, str], Connection] = {}

    def get(self, key: str | None, url: str, folder: Path, database: str = "") -> Connection:
        ident = (account_of(key) if key else "demo", url if key else "demo", str(folder), database if key else "")
        with self._lock:
            if ident not in self._open:
                self._open[ident] = connect(
                    key, base_url=url, data_dir=folder, demo_job_seconds=demo_seconds(), typical_seconds=typical_seconds(),
                    database_url=database,
                )
            return self._open[ident]

    def close_all(self) -> None:
        """Stop every poller and simulator (tests; a server shutting down)."""
        with self._lock:
            for conn in self._open.values():
                conn.close()
            self._open.clear()


@st.cache_resource(show_spinner=False)
def connections() -> _Connections:
    # One per process: pollers keep running after a tab closes, so paid generations still finish.
    return _Connections()


def connection(source: KeySource | None = None) -> Connection:
    """This session's connection; stops the page with a readable message if it cannot be opened."""
    source = source or resolve_key()
    try:
        return connections().get(source.key, base_url(), data_dir(), database_url())
    except DatabaseError as exc:
        st.error("The history database cannot be opened, so nothing can be recorded.", icon=":material/database:")
        st.text(str(exc))
        st.stop()
    except ValueError as exc:  # a base URL we refuse to send a key to
        st.error("The API address is not usable.", icon=":material/link_off:")
        st.text(str(exc))
        st.stop()


def ensure_entry_point() -> None:
    """Make sure a page runs inside app.py's navigation. Call first in every page script.

    With a pages/ folder next to app.py, Streamlit runs a page file on its own
    (its old multipage convention) until app.py has called st.navigation once
    in the process; AppTest resets that state before every run. A deep link
    such as /history?gen=<id> on a fresh server would then get no sidebar, no
    demo notice and the wrong menu. Running app.py here, within the same run,
    keeps this run's clicks and fixes the page.

    Streamlit 1.67 has no supported switch for this: its documented way out is
    to rename pages/, which this project's layout keeps. The flag read here is
    internal; tests/test_app.py fails with a clear message if an upgrade removes it.
    """
    if uses_legacy_pages_directory():
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()


def uses_legacy_pages_directory() -> bool:
    """Streamlit's internal `PagesManager.uses_pages_directory`: True until st.navigation has run in this process."""
    from streamlit.runtime.pages_manager import PagesManager

    return bool(PagesManager.uses_pages_directory)
