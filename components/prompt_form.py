"""The Generate form for the chosen model: its inputs, its parameters, Generate, and what came of it.

The widgets come from `form_builder` (one builder for every model). Data flows
one way: the widgets' values go through `catalog.validate`, and only a clean
body is sent (`submit_actions.send`, once per click). Errors are shown beside
their field; nothing is sent.
"""

from __future__ import annotations

from typing import Any, assert_never

import streamlit as st

from components import form_builder, prompt_improve, prompt_recall, services, session, start_frame_form, submit_actions, variants_form
from components.markdown import literal
from videogen import catalog, lineage, media, spend, variants
from videogen.api import Status
from videogen.connection import Connection
from videogen.polling import is_allowed_video_url
from videogen.text import shorten


def load_into_form(request: dict[str, Any], *, parent_id: str | None = None) -> None:
    """Put a past request's parameters back into the form (the Re-run action), for any model. A button callback.

    `parent_id`: the generation they came from; what the form sends next is recorded as its new version."""
    model_id = str(request.get("model") or catalog.DEFAULT_MODEL)
    try:
        model = catalog.get(model_id)
    except catalog.UnknownModelError:
        session.set_form_notice(f"{literal(model_id)} is not a model this app knows; nothing was loaded.")
        return
    session.assign(session.MODEL, model.id)
    session.set_last_model(model.id)  # not a switch: nothing to reconcile
    session.set_form_parent(parent_id)
    session.set_form_origin(None)
    session.set_improve_proposal(None)
    reset = []
    for field in form_builder.layout(model.id):
        k = form_builder.key(field.name)
        value = request.get(field.name)
        if field.widget == "media":
            items = value if isinstance(value, list) else [] if value is None else [value]
            session.set_upload_refs(k, [v for v in items if media.is_reference(v)] or None)
            session.assign(k, "\n".join(str(v) for v in items if not media.is_reference(v)))
            session.forget(k + "__pick")
            continue
        converted, ok = form_builder.widget_value(field, value)
        session.assign(k, converted)
        if not ok:
            reset.append(f"{field.label} {literal(repr(value))}")
    if reset:
        session.set_form_notice(f"{'; '.join(reset)}: not available for {model.id}; reset to the default.")
    else:
        session.set_form_notice("Loaded a previous generation's parameters. Edit them, then press Generate.")


def rerun_in_form(request: dict[str, Any], parent_id: str | None = None) -> None:
    """A card's or History's Re-run: the request's parameters in the form, and the Generate page next. A button callback."""
    load_into_form(request, parent_id=parent_id)
    session.ask_for_generate()


def render(conn: Connection, model: catalog.Model) -> None:
    if reset := form_builder.prepare(model):
        session.set_form_notice(f"{literal('; '.join(reset))}: not available for {model.id}; it was reset.")
    _take_query_params(model)
    if notice := session.take_form_notice():
        st.info(notice, icon=":material/info:")

    media_values = form_builder.draw_media(model, conn.store.data_dir, lambda: _finished_videos(conn))
    start_frame_form.panel(conn, model)
    sweep = variants_form.settings(model)
    advanced = any(f.advanced and f.widget != "media" for f in form_builder.layout(model.id))
    # A widget inside a form tells the server nothing until Generate is pressed: the fields the price
    # follows sit just above the form, in the same box, so that changing one shows its price at once.
    priced = _price_fields(conn, model)
    with st.container(border=True):
        slots = form_builder.draw_fields(model, advanced=False, only=priced) if priced else {}
        with st.form("generate", border=False, enter_to_submit=True):
            slots |= form_builder.draw_fields(model, advanced=False, skip=priced)
            if advanced:
                with st.expander("Advanced", icon=":material/tune:"):
                    slots |= form_builder.draw_fields(model, advanced=True)
            with st.container(horizontal=True, gap="small", vertical_alignment="center"):
                # Generate first: Enter in a field presses the form's first button.
                submitted = st.form_submit_button("Generate", type="primary", icon=":material/movie:", key="generate")
                if any(p.name == "prompt" for p in model.params):
                    prompt_improve.button(model)
                    prompt_recall.buttons(conn)
            st.caption(_cost_line(conn, model))
    if any(p.name == "prompt" for p in model.params):
        prompt_recall.keys()

    # Values a link gave that this model refuses: named beside their fields, as well as in the notice.
    for field, message in session.take_field_problems().items():
        if slot := slots.get(field) or (media_values[field].slot if field in media_values else None):
            slot.error(literal(message), icon=":material/error:")
    if submitted:
        params, problems = form_builder.raw_values(model, media_values)
        if sweep is not None:
            params = variants.base_values(model, params, sweep.dimension, sweep.values)
        result = catalog.validate(model, params)
        errors = {**result.errors, **problems}
        if not errors and sweep is None:
            origin = lineage.kept_origin(session.form_origin(), result.body)
            parent = lineage.send_parent(conn.store, session.form_parent(), result.body, origin)
            submit_actions.send(conn, result.body, parent_id=parent, origin=origin)
        elif not errors:
            batch = variants_form.draft(result.body, sweep)
            if isinstance(batch, str):
                st.error(literal(batch), icon=":material/view_module:")
        else:
            for field, message in errors.items():
                if field in media_values and media_values[field].error == message:
                    continue  # already shown beside the input when the file was chosen
                slot = slots.get(field) or (media_values[field].slot if field in media_values else None)
                (slot or st).error(literal(message), icon=":material/error:")
    prompt_improve.panel(conn, model, media_values)
    _submit_problem(conn)
    variants_form.result(conn)
    variants_form.ask(conn)


def _price_fields(conn: Connection, model: catalog.Model) -> set[str]:
    """The up-front fields the price of this model's request follows: duration, resolution, and any the price list names."""
    names = {"duration", "resolution", *(conn.prices.dimensions(model.id) if conn.prices else ())}
    return {f.name for f in form_builder.layout(model.id) if f.name in names and not f.advanced and f.widget != "media"}


def _cost_line(conn: Connection, model: catalog.Model) -> str:
    """The price of the form's request by the server's price list, and where it came from; beside it, as a check,
    what requests like it cost in this history; and the budget left, when there is one."""
    names = {"duration", "resolution", *(conn.prices.dimensions(model.id) if conn.prices else ())}
    request = {
        "model": model.id,
        **{f.name: session.value(form_builder.key(f.name)) for f in form_builder.layout(model.id) if f.name in names},
    }
    price = conn.price(request)
    if price is not None:
        line = f":material/payments: {literal(price.explanation)}"
    elif conn.prices is not None:
        line = f":material/payments: {literal(conn.prices.no_price_reason(request))}"
    else:
        line = ":material/payments: no price known for this model"
    cost = spend.estimate(conn.store.costs(model.id, conn.server), request)
    line += (
        f" · this history: about {literal(spend.money(cost.credits))}, median of {cost.samples}"
        if cost
        else " · this history: no estimate yet (none like it has finished here)"
    )
    budget = services.budget()
    expected = price.credits if price is not None else cost.credits if cost else None
    standing = conn.budget_standing(budget, expected, owner=services.signed_in_user())
    if standing.left is not None:
        line += f" · {literal(spend.money(standing.left))} of the budget's {literal(spend.money(budget.limit))} left"
    if standing.one_at_a_time:
        line += (
            " · with a budget set, a request of unknown price goes only while no other is running, so the "
            "budget can be passed by one generation at most"
        )
    return line


def _finished_videos(conn: Connection) -> list[tuple[str, str]]:
    """(API video link, label) of this history's finished generations, for "use this video": only the
    person's own when signed in, unless they switched to the team's view."""
    choices = [
        (r.video_url, f"{shorten(r.prompt, 48) or r.id} · {r.model}")
        for r in conn.store.records(limit=200, owner=services.owner_scope())
        if r.status is Status.COMPLETED and r.video_url and is_allowed_video_url(r.video_url)
    ]
    session.set_own_video_links({link for link, _ in choices})
    return choices


def _take_query_params(model: catalog.Model) -> None:
    """`?prompt=…&aspect_ratio=9:16&duration=6&seed=7` fills the form once; invalid values are named and ignored."""
    fields = {f.name: f for f in form_builder.layout(model.id)}
    given = {name: st.query_params[name] for name in fields if name in st.query_params}
    if not given:
        return
    for name in given:
        del st.query_params[name]
    checked = catalog.validate(model, given)
    accepted, refused = [], {}
    for name, value in given.items():
        field = fields[name]
        if name in checked.errors:
            refused[name] = checked.errors[name]
            continue
        if field.widget == "media":
            try:
                session.assign(form_builder.key(name), media.check_link(value, field.param.media or "file"))
            except media.MediaError as exc:
                refused[name] = str(exc)
                continue
        else:
            converted, ok = form_builder.widget_value(field, value)
            if not ok:
                refused[name] = f"{field.label} cannot be {value!r}."
                continue
            session.assign(form_builder.key(name), converted)
        accepted.append(name)
    if refused:
        session.set_field_problems({name: f"From the link, ignored: {text}" for name, text in refused.items()})
        session.set_form_notice(
            "Some values in the link were ignored: " + literal("; ".join(f"{name}: {text}" for name, text in refused.items()))
        )
    elif accepted:
        session.set_form_notice("The form was filled in from the link.")


def _submit_problem(conn: Connection) -> None:
    problem = session.submit_problem()
    if not problem:
        return
    kind, message, body = problem
    match kind:
        case "unknown":
            _unknown_outcome(conn, message, body)
        case "unsaved":
            st.warning(literal(message), icon=":material/save:")
        case "warning":
            st.warning(literal(message), icon=":material/hourglass_top:")
        case "error":
            st.error(literal(message), icon=":material/error:")
        case unknown:
            assert_never(unknown)


def _unknown_outcome(conn: Connection, message: str, body: dict) -> None:
    st.warning(
        "**We could not confirm whether this generation started.** "
        + literal(message)
        + " If it did, it may not appear here and is still charged. Submitting again may create (and charge) a second one.",
        icon=":material/help:",
    )
    again, dismiss = st.columns([1, 4])
    if again.button("Submit again", key="submit-again", icon=":material/replay:"):
        submit_actions.send(conn, body)
        st.rerun()
    if dismiss.button("Dismiss", key="dismiss-unknown"):
        session.clear_submit_problem()
        st.rerun()
