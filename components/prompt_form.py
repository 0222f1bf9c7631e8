"""The Generate form: prompt, aspect ratio, duration and the advanced options.

Data flows one way: the widgets' values go through `catalog.validate`, and only
a clean body reaches `Connection.submit`, which creates and records the
generation in one step. Errors are shown beside their field; nothing is sent.

Exactly one generation per submission: a double click or a second Enter
arrives as a second run with the same request, which `DuplicateGuard` refuses.
`Connection.submit` creates and records in one step with no st.* call in
between, so even a rerun that interrupts the page cannot lose a generation.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.markdown import literal
from videogen import catalog
from videogen.connection import Connection
from videogen.duplicates import DuplicateGuard
from videogen.errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    NetworkError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
)

MODEL = "veo2"
FIELDS = ("prompt", "aspect_ratio", "duration", "negative_prompt", "seed", "enhance_prompt")
#: Session-state key of each field's widget.
KEY = {name: f"gen_{name}" for name in FIELDS}


def defaults(model: catalog.Model) -> dict[str, Any]:
    return {
        "prompt": "",
        "aspect_ratio": model.param("aspect_ratio").default,
        "duration": model.param("duration").default,
        "negative_prompt": "",
        "seed": "",
        "enhance_prompt": model.param("enhance_prompt").default,
    }


def load_into_form(request: dict[str, Any]) -> None:
    """Put a past request's parameters back into the form (the Re-run action). Use as a button callback."""
    model = catalog.get(MODEL)
    values = {**defaults(model), **{k: v for k, v in request.items() if k in FIELDS}}
    values["seed"] = "" if values.get("seed") is None else str(values["seed"])
    for name, value in values.items():
        st.session_state[KEY[name]] = value
    st.session_state["form_notice"] = "Loaded a previous generation's parameters. Edit them, then press Generate."


def render(conn: Connection) -> None:
    model = catalog.get(MODEL)
    _prepare_state(model)
    if notice := st.session_state.pop("form_notice", None):
        st.info(notice, icon=":material/info:")

    with st.form("generate", border=True, enter_to_submit=True):
        # No max_chars: Streamlit's text area silently drops a paste longer than its limit, and the
        # person would then read "Prompt is required". A long text is kept, and Generate names its length.
        st.text_area(
            "Prompt",
            key=KEY["prompt"],
            height=110,
            placeholder="A slow dolly shot through a neon-lit night market in the rain…",
            help=f"Up to {model.param('prompt').max_length:,} characters.",
            persist_state="session",
        )
        errors = {"prompt": st.empty()}
        left, right = st.columns(2)
        with left:
            st.segmented_control(
                "Aspect ratio",
                model.param("aspect_ratio").enum,
                key=KEY["aspect_ratio"],
                required=True,
                format_func={"16:9": "16:9 landscape", "9:16": "9:16 portrait"}.get,
                persist_state="session",
            )
            errors["aspect_ratio"] = st.empty()
        with right:
            st.segmented_control(
                "Duration (s)",
                model.param("duration").enum,
                key=KEY["duration"],
                required=True,
                persist_state="session",
            )
            errors["duration"] = st.empty()
        with st.expander("Advanced", icon=":material/tune:"):
            st.text_area(
                "Negative prompt",
                key=KEY["negative_prompt"],
                height=68,
                placeholder="What to keep out of the video",
                help=f"Up to {model.param('negative_prompt').max_length:,} characters.",
                persist_state="session",
            )
            errors["negative_prompt"] = st.empty()
            st.text_input(
                "Seed",
                key=KEY["seed"],
                placeholder="Random",
                help="Leave blank for a random seed. The same seed and parameters give similar videos.",
                persist_state="session",
            )
            errors["seed"] = st.empty()
            st.toggle("Enhance prompt", key=KEY["enhance_prompt"], help="Let the model expand the prompt.", persist_state="session")
            errors["enhance_prompt"] = st.empty()
        submitted = st.form_submit_button("Generate", type="primary", icon=":material/movie:", key="generate")

    if submitted:
        params = {name: st.session_state.get(KEY[name]) for name in FIELDS}
        result = catalog.validate(model, params)
        if result.ok:
            _send(conn, result.body)
        else:
            for field, message in result.errors.items():
                (errors.get(field) or st).error(literal(message), icon=":material/error:")
    _submit_problem(conn)


def _prepare_state(model: catalog.Model) -> None:
    """Fill in defaults, take parameters from the page's link, and drop values the widgets cannot show.

    A value can reach session state by other routes than the widgets (a link, a
    stale session). A widget given a value outside its options would fail, so
    such values are reset with a notice; they could never have been sent anyway.
    """
    for name, value in defaults(model).items():
        st.session_state.setdefault(KEY[name], value)
    _take_query_params(model)
    for name in ("aspect_ratio", "duration"):
        options = model.param(name).enum
        if st.session_state.get(KEY[name]) not in options:
            bad = st.session_state.get(KEY[name])
            st.session_state[KEY[name]] = model.param(name).default
            st.session_state["form_notice"] = (
                f"{model.param(name).label} {literal(repr(bad))} is not available for {MODEL}; it was reset."
            )
    if not isinstance(st.session_state.get(KEY["enhance_prompt"]), bool):
        st.session_state[KEY["enhance_prompt"]] = model.param("enhance_prompt").default
    for name in ("prompt", "negative_prompt", "seed"):
        if not isinstance(st.session_state.get(KEY[name]), str):
            value = st.session_state.get(KEY[name])
            st.session_state[KEY[name]] = "" if value is None else str(value)


def _take_query_params(model: catalog.Model) -> None:
    """`?prompt=…&aspect_ratio=9:16&duration=6&seed=7` fills the form once; invalid values are named and ignored."""
    given = {name: st.query_params[name] for name in FIELDS if name in st.query_params}
    if not given:
        return
    for name in given:
        del st.query_params[name]
    checked = catalog.validate(model, {**defaults(model), "prompt": "-", **given})
    accepted, refused = [], []
    for name, value in given.items():
        if name in checked.errors:
            refused.append(f"{name}: {checked.errors[name]}")
            continue
        if name == "enhance_prompt":
            value = value.strip().lower() == "true"
        elif name == "duration":
            value = int(value)
        st.session_state[KEY[name]] = value
        accepted.append(name)
    if refused:
        st.session_state["form_notice"] = "Some values in the link were ignored: " + literal("; ".join(refused))
    elif accepted:
        st.session_state["form_notice"] = "The form was filled in from the link."


def _send(conn: Connection, body: dict[str, Any]) -> None:
    guard: DuplicateGuard = st.session_state.setdefault("duplicate_guard", DuplicateGuard())
    if guard.is_repeat(body):
        st.toast("Already submitted: that was the same request again.", icon=":material/content_copy:")
        return
    st.session_state.pop("submit_problem", None)
    st.session_state.pop("create_auth_problem", None)
    try:
        record = conn.submit(body)
    except OutcomeUnknownError as exc:
        guard.sent(body)
        st.session_state["submit_problem"] = ("unknown", str(exc), body)
    except RateLimitError as exc:
        wait = f" Try again in {exc.retry_after:.0f} s." if exc.retry_after else " Wait a moment and try again."
        st.session_state["submit_problem"] = ("warning", "The API is busy (rate limit). Nothing was created." + wait, None)
    except NetworkError as exc:
        st.session_state["submit_problem"] = ("warning", f"{exc.message} Check the connection and try again.", None)
    except (AuthenticationError, PermissionDeniedError) as exc:
        st.session_state["create_auth_problem"] = exc
        st.session_state["submit_problem"] = ("error", "The API refused the request. Nothing was created.", None)
    except InvalidRequestError as exc:
        st.session_state["submit_problem"] = ("error", f"The API refused the parameters: {exc.message}", None)
    except ApiError as exc:
        st.session_state["submit_problem"] = ("error", f"The request failed: {exc}", None)
    else:
        # No st.* call between the create and these lines: a rerun cannot slip in between.
        guard.sent(body)
        st.session_state.setdefault("my_generations", []).append(record.id)
        st.session_state.setdefault("seen_pending", set()).add(record.id)
        st.toast("Submitted. The video appears below when it is ready.", icon=":material/send:")


def _submit_problem(conn: Connection) -> None:
    problem = st.session_state.get("submit_problem")
    if not problem:
        return
    kind, message, body = problem
    if kind == "unknown":
        st.warning(
            "**We could not confirm whether this generation started.** "
            + literal(message)
            + " If it did, it may not appear here and is still charged. Submitting again may create (and charge) a second one.",
            icon=":material/help:",
        )
        again, dismiss = st.columns([1, 4])
        if again.button("Submit again", key="submit-again", icon=":material/replay:"):
            _send(conn, body)
            st.rerun()
        if dismiss.button("Dismiss", key="dismiss-unknown"):
            st.session_state.pop("submit_problem", None)
            st.rerun()
    elif kind == "warning":
        st.warning(literal(message), icon=":material/hourglass_top:")
    else:
        st.error(literal(message), icon=":material/error:")
