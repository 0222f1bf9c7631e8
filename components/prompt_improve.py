"""Improve prompt, reviewed: a chat model proposes a rewrite, the person sees it as a word diff and decides.

The button is one of the Generate form's own (a submit button that sends nothing to a video model), so the
text being typed reaches the server with the click. Its callback only notes the text; the chat model is
asked after the form is drawn, under a spinner, and once. The proposal stays on show, editable, until
**Use this prompt** puts it into the form or **Discard** drops it: nothing goes to a video model until the
person presses Generate. A used rewrite is recorded as the next generation's origin (`lineage.rewrite_origin`),
so its Lineage shows the change from the person's own words.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components import form_builder, lineage_view, services, session
from components.form_builder import MediaValue
from components.markdown import literal
from videogen import catalog, lineage, media, rewrite, spend
from videogen.api import ApiError
from videogen.connection import Connection
from videogen.pricing import dollars
from videogen.prompt_diff import summary, to_html, word_diff

PROMPT_KEY = form_builder.key("prompt")


@dataclass(frozen=True)
class Proposal:
    """What Improve prompt came to: a rewrite of `original` for `model_id`, or why there is none."""

    original: str
    model_id: str
    chat_model: str
    result: rewrite.Rewrite | None = None
    call_id: str | None = None
    problem: str | None = None


def offered(model: catalog.Model) -> bool:
    return model.kind in rewrite.KINDS and any(p.name == "prompt" for p in model.params)


def button(model: catalog.Model) -> None:
    """Improve prompt, inside the Generate form."""
    if offered(model):
        st.form_submit_button(
            "Improve prompt",
            icon=":material/auto_awesome:",
            key="improve-prompt",
            on_click=_asked,
            args=(model.id,),
            help="A chat model proposes a rewrite for this model; you review it before anything is sent",
        )


def _asked(model_id: str) -> None:
    session.set_improve_asked(str(session.value(PROMPT_KEY, "") or ""), model_id)


def panel(conn: Connection, model: catalog.Model, media_values: dict[str, MediaValue]) -> None:
    """Below the form: ask the chat model if the button was pressed, then show the proposal on hand."""
    if (asked := session.take_improve_asked()) is not None:
        text, model_id = asked
        if model_id == model.id:
            _ask(conn, model, text, media_values)
    proposal = session.improve_proposal()
    if proposal is None:
        return
    if proposal.model_id != model.id:  # the form moved to another model: a rewrite for this one would mislead
        session.set_improve_proposal(None)
        return
    with st.container(border=True, key="improve-panel"):
        if proposal.result is None:
            st.warning(literal(f"{proposal.problem} The prompt was left as it was."), icon=":material/auto_awesome:")
            st.button("Dismiss", key="improve-dismiss", type="tertiary", on_click=session.set_improve_proposal, args=(None,))
            return
        _review(conn, proposal, proposal.result)


def _ask(conn: Connection, model: catalog.Model, text: str, media_values: dict[str, MediaValue]) -> None:
    chat = str(session.value(session.CHAT_MODEL) or services.default_chat_model())
    image = _start_image(model, media_values) if model.kind == "image-to-video" else None
    owner = services.signed_in_user()
    proposal = Proposal(text, model.id, chat)
    try:
        with st.spinner(f"Asking {rewrite.chat_model(chat).name} for a better prompt…"):
            result, call = conn.improve_prompt(
                text, video_model=model.id, kind=model.kind, chat_model=chat, image=image, owner=owner, budget=services.budget()
            )
    except rewrite.RewriteError as exc:
        proposal = Proposal(text, model.id, chat, problem=exc.reason)
    except spend.OverBudgetError as exc:
        proposal = Proposal(text, model.id, chat, problem=exc.message)
    except ApiError as exc:  # the store's spend could not be read, say: nothing was asked
        proposal = Proposal(text, model.id, chat, problem=f"The chat model could not be asked ({exc}).")
    else:
        proposal = Proposal(text, model.id, chat, result=result, call_id=call.id)
        session.assign(session.IMPROVE_TEXT, result.text)
    session.set_improve_proposal(proposal)


def _start_image(model: catalog.Model, media_values: dict[str, MediaValue]) -> str | None:
    """The form's first image, as an upload reference or a link, for a chat model that sees pictures."""
    for param in model.params:
        if param.media != "image":
            continue
        value = media_values.get(param.name, MediaValue()).value
        first = value[0] if isinstance(value, list) and value else value
        if isinstance(first, str) and (media.is_reference(first) or first.startswith("https://")):
            return first
    return None


def _review(conn: Connection, proposal: Proposal, result: rewrite.Rewrite) -> None:
    chat = rewrite.chat_model(result.chat_model)
    st.markdown(f"**:material/auto_awesome: Improved prompt** · {literal(chat.name)}")
    if result.demo:
        st.caption("A demo's rewrite, made by the local simulator rather than a chat model.")
    text = st.text_area("Improved prompt", key=session.IMPROVE_TEXT, height=110, label_visibility="collapsed")
    pieces = word_diff(proposal.original, text)
    st.html(lineage_view.DIFF_STYLE)
    st.html(f'<div class="lineage-diff" data-testid="improve-diff">{to_html(pieces)}</div>')
    over = len(text) - result.limit
    cost = "no price known" if result.cost_usd is None else f"cost {dollars(result.cost_usd)}, counted in spend"
    st.caption(literal(f"{summary(pieces)} · {len(text):,} of {result.limit:,} characters · this rewrite {cost}"))
    if over > 0:
        st.error(literal(f"{len(text):,} characters: {over:,} more than {result.video_model} takes. Shorten it to use it."))
    if result.finish_reason == "length":
        st.caption("The chat model stopped at its length cap: the end may be cut off.")
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.button(
            "Use this prompt",
            type="primary",
            icon=":material/check:",
            key="improve-use",
            disabled=over > 0 or not text.strip(),
            on_click=_use,
            args=(conn, proposal),
        )
        st.button("Discard", icon=":material/close:", key="improve-discard", on_click=session.set_improve_proposal, args=(None,))
        names = list(rewrite.chat_models())
        st.selectbox(
            "Chat model",
            names,
            index=names.index(result.chat_model) if result.chat_model in names else 0,
            format_func=lambda name: rewrite.chat_models()[name].label,
            key=session.CHAT_MODEL,
            label_visibility="collapsed",
            width=280,
        )
        st.button("Ask again", icon=":material/refresh:", key="improve-again", type="tertiary", on_click=_asked_again, args=(proposal,))


def _use(conn: Connection, proposal: Proposal) -> None:
    """Put the reviewed text into the form; the next generation records it as a rewrite of the person's text."""
    text = str(session.value(session.IMPROVE_TEXT, "") or "")
    session.assign(PROMPT_KEY, text)
    session.set_form_origin(lineage.rewrite_origin(proposal.original, proposal.chat_model, cost_usd=_cost(proposal)))
    session.set_recall_position(-1, "")
    if proposal.call_id:
        conn.store.accept_chat_call(proposal.call_id)
    session.set_improve_proposal(None)
    st.toast("The improved prompt is in the form. Press Generate to make it.", icon=":material/auto_awesome:")


def _asked_again(proposal: Proposal) -> None:
    session.set_improve_asked(proposal.original, proposal.model_id)


def _cost(proposal: Proposal) -> float | None:
    return proposal.result.cost_usd if proposal.result is not None else None
