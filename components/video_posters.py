"""Posters on the page's players: each `st.video` of a saved clip shows its poster until played.

`st.video` takes no poster, so a player is drawn inside a keyed container (`player`)
and, once per full run, one invisible component at the end of the page (`apply`)
hands the browser every poster drawn in that run. It sets each as the `poster`
attribute of the video in its container, and again whenever Streamlit redraws that
video (a fragment's run, a rerun), watching the page with a MutationObserver.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from components import session
from videogen import tiles

JS = """
export default function ({ data }) {
  const memory = (window.__videogenPosters ??= { posters: {}, observer: null });
  Object.assign(memory.posters, data.posters);
  const apply = () => {
    for (const [key, url] of Object.entries(memory.posters)) {
      for (const video of document.querySelectorAll(`.st-key-${key} video`)) {
        if (video.getAttribute("poster") !== url) video.setAttribute("poster", url);
      }
    }
  };
  apply();
  if (!memory.observer) {
    memory.observer = new MutationObserver(apply);
    memory.observer.observe(document.body, { childList: true, subtree: true });
  }
}
"""

CSS = ":host { display: none; }"

_component = st.components.v2.component("videogen.video_posters", html="", css=CSS, js=JS)


def container_key(video: Path) -> str:
    """A CSS-safe key for the container of `video`'s player (ids hold ':' and other characters)."""
    return "player-" + hashlib.sha256(str(video).encode()).hexdigest()[:16]


def player(video: Path, *, width: int | str = "stretch") -> None:
    """`st.video` of the app's own copy, with its poster when one has been made."""
    key = container_key(video)
    with st.container(key=key):
        st.video(str(video), width=width)
    if (url := tiles.poster_url(video)) is not None:
        session.page_posters()[key] = url


def apply() -> None:
    """Send the posters of this run's players to the browser: once, at the end of a full run."""
    if posters := session.page_posters():
        _component(data={"posters": posters}, key="video-posters")
