"""Putting text that is not ours (prompts, server messages) into Streamlit's markdown elements.

Prefer `st.text` for such text: it is never interpreted. Where only a markdown
element will do (alerts, toasts), `literal()` escapes every ASCII punctuation
mark, so links, images, HTML, math, and :color[directives] stay literal text.
"""

from __future__ import annotations

import re

from videogen.text import shorten

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def literal(text: str) -> str:
    """`text`, escaped so that Streamlit's markdown shows it character for character."""
    return _PUNCTUATION.sub(r"\\\1", text)


def excerpt(text: str, limit: int = 60) -> str:
    """A one-line, escaped excerpt for toasts and labels."""
    return literal(shorten(" ".join(text.split()), limit))
