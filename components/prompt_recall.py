"""Recall: the prompt box steps back and forward through this person's earlier prompts.

The list is read on the click, not on every run (the Generate page stays as fast
with recall as without). Stepping back from the person's own text keeps it, so
stepping forward past the newest earlier prompt brings it back. The buttons are
the form's own (submit buttons that send nothing to the API): the prompt is a
field of the Generate form, whose typing reaches the server only when one of the
form's buttons is pressed, and the text being typed must not be lost.

Alt+Up and Alt+Down in the prompt box press Earlier and Later (`keys`, a hidden
component): the box is blurred first, which hands its text to the form, and
focused again once the run that answers has drawn it.
"""

from __future__ import annotations

import streamlit as st

from components import form_builder, services, session
from videogen.connection import Connection

PROMPT_KEY = form_builder.key("prompt")

KEYS_JS = """
export default function ({ data }) {
  const memory = (window.__videogenRecall ??= { onKey: null, refocus: false });
  const box = () => document.querySelector(`.st-key-${data.prompt} textarea`);
  // Called again when its data changes: after a recall key, by the run that drew the recalled prompt.
  if (memory.refocus) {
    memory.refocus = false;
    setTimeout(() => {
      const field = box();
      if (field) { field.focus(); field.setSelectionRange(field.value.length, field.value.length); }
    }, 60);
  }
  const onKey = (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const field = box();
    if (!field || event.target !== field) return;  // only in the prompt box: other fields keep their keys
    const button = document.querySelector(`.st-key-${event.key === "ArrowUp" ? "recall-earlier" : "recall-later"} button`);
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    field.blur();  // hands the text being typed to the form before its button sends it
    memory.refocus = true;
    button.click();
  };
  if (memory.onKey) document.removeEventListener("keydown", memory.onKey, true);
  memory.onKey = onKey;
  document.addEventListener("keydown", onKey, true);
  return () => {
    document.removeEventListener("keydown", onKey, true);
    if (memory.onKey === onKey) memory.onKey = null;
  };
}
"""

_keys = st.components.v2.component("videogen.prompt_recall_keys", html="", css=":host { display: none; }", js=KEYS_JS)


def buttons(conn: Connection) -> None:
    """Earlier and Later, inside the Generate form, after Generate."""
    with st.container(horizontal=True, gap="small", key="prompt-recall", width="content"):
        st.form_submit_button(
            "Earlier prompt",
            icon=":material/history:",
            type="tertiary",
            key="recall-earlier",
            on_click=step,
            args=(conn, 1),
            help="Your earlier prompts, newest first",
        )
        st.form_submit_button("Later prompt", icon=":material/update:", type="tertiary", key="recall-later", on_click=step, args=(conn, -1))


def keys() -> None:
    """Alt+Up and Alt+Down in the prompt box: outside the form, once per run."""
    # The position changes with each step, so the browser hears of the run that answered a key.
    _keys(data={"prompt": PROMPT_KEY, "at": session.recall_position()[0]}, key="prompt-recall-keys")


def step(conn: Connection, by: int) -> None:
    """Move `by` prompts back (1) or forward (-1) through the earlier prompts. A button callback."""
    at, own = session.recall_position()
    current = session.value(PROMPT_KEY, "")
    prompts = conn.store.recent_prompts(owner=services.signed_in_user() or None)  # signed in: one's own only
    if at < 0:
        own = current  # leaving the person's own text: kept, to come back to
        prompts = [p for p in prompts if p != current]
    else:
        prompts = [p for p in prompts if p != own]
    to = at + by
    if to < -1 or to >= len(prompts):
        st.toast("No earlier prompt." if by > 0 else "This is your own text.", icon=":material/history:")
        return
    session.set_recall_position(to, own)
    session.assign(PROMPT_KEY, own if to < 0 else prompts[to])
