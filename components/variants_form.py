"""Variants on the Generate page: what to sweep, the confirmation, the batch going out, and what came of it.

The sweep is chosen above the form (its inputs depend on the dimension, and
widgets inside a form cannot change until it is submitted). Pressing Generate
with a sweep on validates the form's request as usual, expands it into one
request per value (`videogen.variants`, each validated for its own model), and
asks first: how many paid generations, and what they should cost. Only
Confirm sends, once: the draft is taken out of the session before the first
create, so a second click finds nothing to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from components import form_builder, model_picker, services, session, submit_actions
from components.markdown import literal
from videogen import catalog, lineage, spend, variants
from videogen.api import ApiError, NotSavedYetError, OutcomeUnknownError, RateLimitError
from videogen.connection import Connection
from videogen.store import Record

DIMENSION_LABELS = {"seed": "Seeds", "model": "Models", "aspect_ratio": "Aspect ratios", "duration": "Durations", "prompt": "Prompts"}


@dataclass(frozen=True)
class Sweep:
    dimension: str
    values: list[Any] | int  # for seeds, how many; for prompts, the lines as typed


@dataclass(frozen=True)
class BatchDraft:
    batch_id: str
    items: list[variants.Variant]
    dimension: str

    @property
    def sendable(self) -> list[variants.Variant]:
        return [v for v in self.items if v.ok]


#: A sent batch, and each item's outcome: created, or why not.
BatchResult = tuple[BatchDraft, list[tuple[variants.Variant, Record | ApiError]]]


def settings(model: catalog.Model) -> Sweep | None:
    """The Variants switch above the form and, when on, what to sweep; the sweep, or None for one generation."""
    offered = variants.offered(model)
    if session.value(session.VARIANTS_DIMENSION) not in (None, *offered):
        session.assign(session.VARIANTS_DIMENSION, None)  # the new model cannot sweep what the last one did
    on = st.toggle(
        "Variants",
        key="variants_on",
        help="Make 2 to 8 generations from one request, varying one setting or the prompt. Nothing is sent before you confirm.",
    )
    if not on:
        return None
    with st.container(border=True, key="variants-settings"):
        dimension = st.segmented_control(
            "Sweep one setting",
            offered,
            format_func=DIMENSION_LABELS.get,
            key=session.VARIANTS_DIMENSION,
            default=offered[0],
        )
        if dimension is None:
            st.caption("Choose a setting to vary. Generate then asks before it sends anything.")
            return None
        return Sweep(dimension, _values(model, dimension))


def _values(model: catalog.Model, dimension: str) -> list[Any] | int:
    choices = variants.choices(model, dimension)
    if dimension == "seed":
        return st.slider("How many seeds", variants.MIN_ITEMS, variants.MAX_ITEMS, 4, key="variants_seeds")
    if dimension == "prompt":
        return _prompts()
    if dimension == "model":
        ids = model_picker.ordered_ids(model.kind)
        return st.multiselect(
            "Models",
            ids,
            default=[model.id],
            format_func=model_picker.option_label,
            key=f"variants_models_{model.kind}",
            max_selections=variants.MAX_ITEMS,
            placeholder="Add models to compare",
            help="Each model gets the fields of this form that it takes, checked by its own rules.",
        )
    label = "Aspect ratios" if dimension == "aspect_ratio" else "Durations"
    return st.multiselect(
        label, choices, default=choices[: variants.MAX_ITEMS], key=f"variants_{dimension}_{model.id}", max_selections=variants.MAX_ITEMS
    )


def _prompts() -> list[str]:
    """The prompts text area, its lines as typed; it starts from the form's prompt, made one line."""
    form_prompt = session.value(form_builder.key("prompt"))
    session.setdefault(session.VARIANTS_PROMPTS, " ".join(str(form_prompt or "").split()))
    text = st.text_area(
        "Prompts, one per line",
        key=session.VARIANTS_PROMPTS,
        height=160,
        placeholder="A red fox trotting through fresh snow at dawn\nThe same fox at dusk, snow falling",
        help=(
            f"{variants.MIN_ITEMS} to {variants.MAX_ITEMS} prompts, each sent with this form's settings and one shared seed, "
            "so the prompt is all that differs. Blank lines are skipped; a prompt given twice is sent once. "
            "The form's own Prompt is not sent."
        ),
    )
    return text.splitlines()


def draft(body: dict[str, Any], sweep: Sweep) -> BatchDraft | str:
    """The batch for a valid `body`, kept for the confirmation; or why there can be none."""
    try:
        items = variants.expand(body, sweep.dimension, sweep.values)
    except ValueError as exc:
        return str(exc)
    if not any(item.ok for item in items):
        return "None of these variants can be sent: " + "; ".join(f"{v.label}: {v.problem}" for v in items)
    batch = BatchDraft(variants.new_batch_id(), items, sweep.dimension)
    session.set_variants_draft(batch)
    return batch


def _estimate(conn: Connection, bodies: list[dict]) -> tuple[float, int]:
    """Expected credits of the bodies whose cost is known, and how many have none."""
    costs = [conn.expected_credits(body) for body in bodies]
    return sum(c for c in costs if c is not None), sum(c is None for c in costs)


def ask(conn: Connection) -> None:
    """While a batch waits for its confirmation, the dialog is open (on every run, so a click in it is never lost)."""
    if session.variants_draft() is not None:
        _confirm(conn)


def _dismissed() -> None:
    session.take_variants_draft()


@st.dialog("Create these generations?", width="large", on_dismiss=_dismissed)
def _confirm(conn: Connection) -> None:
    batch = session.variants_draft()
    if batch is None:
        st.write("This batch was already sent.")
        return
    count = len(batch.sendable)
    st.markdown(
        f"**{count} paid generation{'s' if count != 1 else ''}** will be created, varying **{DIMENSION_LABELS[batch.dimension].lower()}**."
    )
    for item in batch.items:
        if item.ok:
            note = f" (drops {', '.join(item.dropped)}: not a field of this model)" if item.dropped else ""
            st.markdown(f":material/check: {literal(item.label)}{literal(note)}")
        else:
            st.markdown(f":material/block: {literal(item.label)}: not sent. {literal(item.problem or '')}")
    total, unknown = _estimate(conn, [v.body for v in batch.sendable])
    if unknown == count:
        st.caption(":material/payments: Cost: no estimate yet.")
    else:
        missing = f"; {unknown} of them have no estimate yet" if unknown else ""
        st.caption(f":material/payments: About {spend.money(total)} in all{missing}.")
    refusal = conn.budget_standing(
        services.budget(), total if unknown < count else None, owner=services.signed_in_user(), what=f"These {count} generations"
    ).refusal
    if refusal:
        st.error(refusal, icon=":material/account_balance_wallet:")
    send_col, cancel_col = st.columns(2)
    if send_col.button(
        f"Create {count}", type="primary", icon=":material/movie:", key="confirm-batch", width="stretch", disabled=refusal is not None
    ):
        send(conn)
        st.rerun()
    if cancel_col.button("Cancel", key="cancel-batch", width="stretch"):
        session.take_variants_draft()
        st.rerun()


def send(conn: Connection) -> None:
    """Send the planned batch, once. Every item's outcome is kept for the page to report."""
    batch = session.take_variants_draft()
    if batch is None or not batch.sendable:
        return
    bodies = [v.body for v in batch.sendable]
    # Each item on its own: in a batch of prompts, an edited one is a version of the form's generation, a new one is not.
    parents = [lineage.parent_for(conn.store, session.form_parent(), body) for body in bodies]
    outcomes = submit_actions.send_batch(conn, bodies, batch_id=batch.batch_id, parent_ids=parents)
    session.set_variants_result((batch, list(zip(batch.sendable, outcomes, strict=True))))


def result(conn: Connection) -> None:
    """What the last batch came to: all created, or which items were not, and why."""
    outcome = session.variants_result()
    if not outcome:
        return
    batch, pairs = outcome
    created = sum(isinstance(o, Record | NotSavedYetError) for _, o in pairs)
    failed = [(item, o) for item, o in pairs if isinstance(o, ApiError)]
    if not failed:
        st.toast(f"Submitted {created} generations as one batch. They appear below as they finish.", icon=":material/send:")
        session.clear_variants_result()
        return
    lines = [f"**{created} of {len(pairs)} generations were created.**"]
    unsent: list[variants.Variant] = []
    for item, error in failed:
        if isinstance(error, OutcomeUnknownError):
            lines.append(
                f"- {literal(item.label)}: we could not confirm whether it started; if it did, it is charged and may not appear here."
            )
        elif isinstance(error, NotSavedYetError):
            lines.append(f"- {literal(item.label)}: {literal(error.message)}")
        else:
            wait = f" (try again in {error.retry_after:.0f} s)" if isinstance(error, RateLimitError) and error.retry_after else ""
            lines.append(f"- {literal(item.label)}: not created. {literal(error.message)}{wait}")
            unsent.append(item)
    st.warning("\n".join(lines), icon=":material/warning:")
    again, dismiss = st.columns([2, 3])
    if unsent and again.button(
        f"Send the {len(unsent)} not created",
        icon=":material/replay:",
        key="batch-again",
        help="Only the ones the server refused: they were never created.",
    ):
        session.set_variants_draft(BatchDraft(batch.batch_id, unsent, batch.dimension))
        session.clear_variants_result()
        st.rerun()
    if dismiss.button("Dismiss", key="batch-dismiss"):
        session.clear_variants_result()
        st.rerun()
