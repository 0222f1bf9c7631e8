"""Every action that creates generations from this tab: the form's request, a confirmed batch, a card's new seed.

Exactly one generation per submission: a double click or a second Enter
arrives as a second run with the same request, which `DuplicateGuard` refuses.
`Connection.submit` creates and records in one step with no st.* call in
between, so even a rerun that interrupts the page cannot lose a generation.
Whichever way they were sent, what this tab created is remembered the same
way: its cards show them, and the sidebar announces each as it finishes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from components import services, session
from components.session import SubmitProblem
from videogen import spend, variants
from videogen.api import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    NetworkError,
    NotSavedYetError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
)
from videogen.connection import Connection
from videogen.store import Record


def send(conn: Connection, body: dict[str, Any], *, parent_id: str | None = None, origin: dict[str, Any] | None = None) -> None:
    """Submit `body` once per click, every failure kept for the form to explain (`session.submit_problem`).

    `origin`: how its prompt was made beyond its parent (`lineage.rewrite_origin`, an accepted rewrite)."""
    guard = session.duplicate_guard()
    if guard.is_repeat(body):
        st.toast("Already submitted: that was the same request again.", icon=":material/content_copy:")
        return
    session.clear_submit_problem()
    session.clear_auth_problem()
    try:
        record = conn.submit(body, parent_id=parent_id, owner=services.signed_in_user(), budget=services.budget(), origin=origin)
    except OutcomeUnknownError as exc:
        guard.sent(body)
        session.set_submit_problem(SubmitProblem("unknown", str(exc), body))
    except NotSavedYetError as exc:
        guard.sent(body)  # it exists and is paid for: a second click must not make another
        session.set_submit_problem(SubmitProblem("unsaved", exc.message))
    except spend.OverBudgetError as exc:
        session.set_submit_problem(SubmitProblem("error", exc.message))
    except RateLimitError as exc:
        wait = f" Try again in {exc.retry_after:.0f} s." if exc.retry_after else " Wait a moment and try again."
        session.set_submit_problem(SubmitProblem("warning", "The API is busy (rate limit). Nothing was created." + wait))
    except NetworkError as exc:
        session.set_submit_problem(SubmitProblem("warning", f"{exc.message} Check the connection and try again."))
    except PermissionDeniedError as exc:
        if exc.out_of_credits:
            session.set_auth_problem(exc)
            session.set_submit_problem(SubmitProblem("error", "The API refused the request. Nothing was created."))
        else:  # this request's refusal (the API has refused one model while another worked): no banner for the key
            session.set_submit_problem(
                SubmitProblem("error", f"The API refused this request (403): {exc.message.rstrip('.')}. Nothing was created.")
            )
    except AuthenticationError as exc:
        session.set_auth_problem(exc)
        session.set_submit_problem(SubmitProblem("error", "The API refused the request. Nothing was created."))
    except InvalidRequestError as exc:
        session.set_submit_problem(SubmitProblem("error", f"The API refused the parameters: {exc.message}"))
    except ApiError as exc:
        session.set_submit_problem(SubmitProblem("error", f"The request failed: {exc}"))
    else:
        # No st.* call between the create and these lines: a rerun cannot slip in between.
        guard.sent(body)
        session.remember_submitted([record.id])
        session.set_form_parent(record.id)  # the next edit in the form is this one's new version
        session.set_form_origin(None)  # its rewrite is recorded: the next version's prompt is this one's
        session.set_recall_position(-1, "")  # recall starts again from the prompt just sent
        st.toast("Submitted. The video appears below when it is ready.", icon=":material/send:")


def send_batch(
    conn: Connection, bodies: Sequence[Mapping[str, Any]], *, batch_id: str, parent_ids: Sequence[str | None] | None = None
) -> list[Record | ApiError]:
    """Create every body of a confirmed batch; each item's outcome, in order (`Connection.submit_batch`).
    `parent_ids`, one per body: the generation the form was loaded from where that body is a version of it
    (`lineage.parent_for`), else None."""
    outcomes = conn.submit_batch(
        bodies, batch_id=batch_id, parent_ids=parent_ids, owner=services.signed_in_user(), budget=services.budget()
    )
    # Only session bookkeeping between the creates and here: every created item is already in the store.
    session.remember_submitted(o.id for o in outcomes if isinstance(o, Record))
    return outcomes


def vary_seed(conn: Connection, record: Record) -> None:
    """A finished card's "Vary seed": its request with a new random seed, naming it as the parent. A button callback."""
    if (request := variants.new_seed_request(record.request)) is not None:
        send(conn, request, parent_id=record.id)


def page_shown() -> None:
    """Call at the end of a page run that was not cut short: what it sent is now on the screen."""
    session.duplicate_guard().shown()
