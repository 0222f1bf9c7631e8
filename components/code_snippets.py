"""Copy as curl / Copy as Python: a recorded request as code that creates and polls it elsewhere."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from videogen import snippets
from videogen.store import Record


def popover(record: Record, *, base_url: str, data_dir: Path, key: str) -> None:
    """A "Code" button that opens both snippets; each code block has its own copy button."""
    with st.popover("Code", icon=":material/code:", key=f"{key}-code-{record.id}"):
        st.caption(f"The exact request, then polling until it ends. The key comes from `${snippets.KEY_VARIABLE}`.")
        curl_tab, python_tab = st.tabs(["Copy as curl", "Copy as Python"])
        with curl_tab:
            st.code(snippets.curl(record.request, base_url=base_url, data_dir=data_dir), language="bash")
        with python_tab:
            st.code(snippets.python(record.request, base_url=base_url, data_dir=data_dir), language="python")
