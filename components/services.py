"""The app's one connection to the engine, and where its settings come from.

Every setting is named and read by `videogen.settings`; here `st.secrets` is
laid over the environment where a setting may come from secrets.toml too.
The API key is looked for in this order: `st.secrets`, the environment
(AIMLAPI_API_KEY, then AIML_API_KEY), and the sidebar's password field, which
lasts for the browser session only. With none, the app runs in demo mode
against the embedded simulator. The key is only ever held in memory.
"""

from __future__ import annotations

import logging
import runpy
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import streamlit as st

from components import session
from videogen import rewrite, settings, spend
from videogen.api import CREDITS_PER_USD
from videogen.connection import Connection, account_of, connect
from videogen.spend import Budget
from videogen.store import DatabaseError, Record

log = logging.getLogger(__name__)

APP_PATH = Path(__file__).resolve().parent.parent / "app.py"


#: Where the key came from; "none" is demo mode.
KeyOrigin = Literal["secrets.toml", "environment", "this session", "none"]


@dataclass(frozen=True)
class KeySource:
    key: str | None
    origin: KeyOrigin


def _secret(name: str) -> str | None:
    try:
        value = st.secrets.get(name)
    except Exception:  # no secrets.toml, or an unreadable one: same as not set
        return None
    return str(value).strip() or None if value else None


class _Secrets(Mapping[str, str]):
    """secrets.toml's top-level values as text, read the way `videogen.settings` reads the environment."""

    def __getitem__(self, name: str) -> str:
        if (value := _secret(name)) is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        try:
            names = list(st.secrets.keys())
        except Exception:  # no secrets.toml, or an unreadable one: nothing set
            names = []
        return iter([name for name in names if _secret(name) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _environment_then_secrets() -> Mapping[str, str]:
    return settings.environment_first(_Secrets())


# -- sign-in (optional: on when secrets.toml has an [auth] section) ---------------------------


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
    if not user or session.team_view():
        return None
    return user


def resolve_key() -> KeySource:
    if key := settings.api_key(_Secrets()):
        return KeySource(key, "secrets.toml")
    if key := settings.api_key():
        return KeySource(key, "environment")
    if key := session.session_api_key():
        return KeySource(key, "this session")
    return KeySource(None, "none")


def base_url() -> str:
    """AIMLAPI_BASE_URL (secrets.toml, then environment)."""
    return settings.base_url(settings.environment_last(_Secrets()))


def data_dir() -> Path:
    return settings.data_dir().resolve()


def database_url() -> str:
    """DATABASE_URL (environment, then secrets.toml): PostgreSQL for a team; empty for SQLite in the data dir."""
    return settings.database_url(_environment_then_secrets())


def configured_budget() -> float | None:
    """PLAYGROUND_BUDGET_USD or PLAYGROUND_BUDGET_CREDITS (environment, then secrets.toml): the key's budget,
    in credits; None when unset."""
    return spend.in_credits(settings.budget(_environment_then_secrets()))


def budget_credits() -> float | None:
    """The key's budget in credits: the configured one, else the sidebar's for this session; None: no budget."""
    configured = configured_budget()
    if configured is not None:
        return configured
    value = session.budget_usd()
    return float(value) * CREDITS_PER_USD if value else None


def budget() -> Budget:
    """Every limit a request must fit: the key's budget, each signed-in person's own
    (PLAYGROUND_PERSON_BUDGET_USD / _CREDITS), and what to count a request of unknown price at
    (PLAYGROUND_UNPRICED_CEILING_USD / _CREDITS); each from the environment, then secrets.toml."""
    configured = _environment_then_secrets()
    return Budget(
        limit=budget_credits(),
        per_person=spend.in_credits(settings.person_budget(configured)) if signed_in_user() else None,
        unpriced_ceiling=spend.in_credits(settings.unpriced_ceiling(configured)),
    )


def default_chat_model() -> str:
    """The chat model Improve prompt asks first: the deployment's choice where it names one this app knows."""
    named = settings.chat_model(_environment_then_secrets())
    if named:
        try:
            return rewrite.chat_model(named).id
        except rewrite.UnknownChatModelError:
            log.warning("%s names no chat model this app knows; using %s", settings.CHAT_MODEL_VARIABLE, rewrite.DEFAULT_CHAT_MODEL)
    return rewrite.DEFAULT_CHAT_MODEL


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
                    key,
                    base_url=url,
                    data_dir=folder,
                    demo_job_seconds=settings.demo_seconds(),
                    typical_seconds=settings.typical_seconds(),
                    database_url=database,
                    recipes=settings.recipes(_environment_then_secrets()),
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
