"""A generation's family of versions: each under the one it came from, with its poster, what it changed,
its prompt's word diff, its rating, and links to open it or compare it with its parent.

Prompts come from people: the diff is escaped markup (`prompt_diff.to_html`), drawn with `st.html`,
which Markdown never reads again.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from components import ratings, session
from components.formatting import STATUS_LOOK, model_name
from videogen import lineage, tiles
from videogen.connection import Connection
from videogen.prompt_diff import summary, to_html
from videogen.store import Rating, Record

#: Versions drawn per page: a family of hundreds pages instead of drawing every poster at once.
PAGE_SIZE = 20
DIFF_STYLE = (
    "<style>.lineage-diff{white-space:pre-wrap;font-size:.85rem;line-height:1.35}"
    ".lineage-diff ins{background:rgba(33,195,84,.18);text-decoration:none}"
    ".lineage-diff del{background:rgba(255,75,75,.15);opacity:.8}</style>"
)


def has_lineage(conn: Connection, record: Record) -> bool:
    """Whether `record` is part of a family: it has a parent, or versions of its own."""
    return bool(record.parent_id) or bool(conn.store.children([record.id]))


def show(conn: Connection, record: Record, *, key: str = "lineage") -> None:
    family = lineage.tree(conn.store, record.id)
    if family is None:
        return
    nodes = family.nodes
    pages = max(1, -(-len(nodes) // PAGE_SIZE))
    here = next((i for i, n in enumerate(nodes) if n.id == record.id), 0)
    page_key = f"{key}-page"
    page = session.value(page_key)
    page = here // PAGE_SIZE if page is None or not 0 <= page < pages else page
    st.caption(f"{len(nodes):,} version{'s' if len(nodes) != 1 else ''}" + (" (the newest left out)" if family.cut else ""))
    shown = nodes[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rated = ratings.of(conn, [n.record for n in shown if n.record is not None])
    st.html(DIFF_STYLE)
    for node in shown:
        _node(conn, node, rated.get(node.id), current=node.id == record.id, key=key)
    if pages > 1:
        st.segmented_control("Page", list(range(pages)), format_func=lambda p: str(p + 1), key=page_key, label_visibility="collapsed")


def _node(conn: Connection, node: lineage.Node, rating: Rating | None, *, current: bool, key: str) -> None:
    indent = min(node.depth, 6)
    spacer, body = st.columns([max(indent, 0.001), 24 - indent]) if indent else (None, st.container())
    with body, st.container(border=True, key=f"lineage-node-{_css(key)}-{_css(node.id)}"):
        if node.is_gap:
            st.caption(":material/link_off: An earlier version was deleted: " + f"`{node.id}`")
            return
        record = node.record
        poster_col, text_col = st.columns([1, 5])
        with poster_col:
            images = tiles.tile_images(record.video_file(conn.store.videos_dir), portrait=record.request.get("aspect_ratio") == "9:16")
            st.image(images.poster, width="stretch")
        with text_col:
            label, color, icon = STATUS_LOOK[record.status]
            with st.container(horizontal=True, gap="small", vertical_alignment="center"):
                st.badge(label, icon=icon, color=color)
                st.markdown(f"**{model_name(record.model)}**" + (" · :blue[this one]" if current else ""))
                if rating is not None and rating.rating:
                    st.caption("★" * rating.rating + "☆" * (5 - rating.rating))
                if node.changes:
                    st.caption(" · ".join(node.changes))
            if node.diff:
                st.html(f'<div class="lineage-diff">{to_html(node.diff)}</div>')
                st.caption(summary(node.diff))
            else:
                st.text(record.prompt)
            with st.container(horizontal=True, gap="small"):
                st.page_link("pages/history.py", label="Open", icon=":material/open_in_new:", query_params={"gen": record.id})
                if node.parent_id:
                    st.page_link(
                        "pages/compare.py",
                        label="Compare with its parent",
                        icon=":material/compare:",
                        query_params={"ids": f"{node.parent_id},{record.id}"},
                    )


def _css(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
