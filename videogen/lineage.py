"""Versions of a prompt: what each generation came from, what changed, and the tree they make.

Every submission from a form that was loaded from a generation (Re-run, Vary seed,
a batch of variants, the next edit after a Generate) names that generation as its
parent (`Record.parent_id`). What changed is not stored: it is read from the two
requests (`changes`), so it can never disagree with them. How a version was made
beyond its parent is its `origin` (`Record.origin`): a reviewed rewrite keeps the
person's own text and the chat model that rewrote it.

`tree` gathers a generation's whole family, from the oldest ancestor still in the
history down, in the order a person reads it: each version under the one it came
from. A parent that was deleted leaves a gap, shown as such, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from .prompt_diff import Piece, word_diff
from .store import Record, Store

#: The most versions one tree gathers: a family larger than this is cut at its newest.
MOST_VERSIONS = 2_000
#: How many ancestors are followed up: parent links come from a database others write too.
MOST_ANCESTORS = 500
#: The least share of words two prompts share for the second to count as a version of the first.
#: Below it, a person typed a new prompt into the form, and it starts a tree of its own.
SAME_PROMPT_SHARE = 0.3

OriginKind = Literal["rewrite", "frame"]


def rewrite_origin(person_text: str, chat_model: str, *, cost_usd: float | None = None) -> dict[str, Any]:
    """The origin of a version whose prompt is an accepted rewrite of `person_text`."""
    return {"kind": "rewrite", "from_prompt": person_text, "chat_model": chat_model, "cost_usd": cost_usd}


def frame_origin(from_id: str, *, frame: int, at_s: float, field: str, image_ref: str) -> dict[str, Any]:
    """The origin of a shot whose start image is frame `frame` (at `at_s` seconds) of generation `from_id`,
    put in the form's `field` as `image_ref`."""
    return {"kind": "frame", "from_id": from_id, "frame": int(frame), "at_s": round(float(at_s), 3), "field": field, "image": image_ref}


def is_frame(origin: Mapping[str, Any] | None) -> bool:
    return bool(origin) and origin.get("kind") == "frame" and isinstance(origin.get("from_id"), str)


def send_parent(store: Store, form_parent: str | None, body: Mapping[str, Any], origin: Mapping[str, Any] | None) -> str | None:
    """The parent to record for `body`, sent from a form loaded from `form_parent` with `origin`: a shot started
    from a frame hangs under the clip the frame is from, whatever its prompt; a rewrite under the generation the
    person's own text was a version of; anything else as `parent_for` says."""
    if is_frame(origin):
        return origin["from_id"] if store.get(origin["from_id"]) is not None else None
    as_written = {**body, "prompt": origin["from_prompt"]} if origin and _is_rewrite(origin) else body
    return parent_for(store, form_parent, as_written)


def kept_origin(origin: Mapping[str, Any] | None, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """`origin` while `body` still holds what it describes: a frame origin is dropped once its frame was removed."""
    if not origin:
        return None
    if is_frame(origin) and origin.get("image") not in _values(body.get(str(origin.get("field")))):
        return None
    return dict(origin)


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def chain(store: Store, generation_id: str) -> list[Record]:
    """The shots of the chain `generation_id` is in, first to last: up through the clips whose frames started
    each shot, then down through the newest shot started from a frame of each. [] for an unknown id."""
    record = store.get(generation_id)
    if record is None:
        return []
    shots, seen = [record], {record.id}
    while is_frame(shots[0].origin) and len(shots) < MOST_ANCESTORS:
        parent = store.get(shots[0].origin["from_id"])
        if parent is None or parent.id in seen:
            break
        shots.insert(0, parent)
        seen.add(parent.id)
    while len(shots) < MOST_ANCESTORS:
        nexts = [
            c for c in store.children([shots[-1].id]) if is_frame(c.origin) and c.origin["from_id"] == shots[-1].id and c.id not in seen
        ]
        if not nexts:
            break
        shots.append(nexts[-1])  # oldest first: the newest is the take the person went on with
        seen.add(nexts[-1].id)
    return shots


def changes(parent: Mapping[str, Any], request: Mapping[str, Any]) -> list[str]:
    """What a version changed from its parent's request, in words: "edited prompt", "new seed", "other model",
    "other duration"...; ["same request"] for a plain re-run."""
    found = []
    if parent.get("prompt") != request.get("prompt"):
        found.append("edited prompt")
    if parent.get("model") != request.get("model"):
        found.append("other model")
    if parent.get("seed") != request.get("seed"):
        found.append("new seed")
    others = sorted(k for k in set(parent) | set(request) if k not in ("prompt", "model", "seed") and parent.get(k) != request.get(k))
    found += [f"other {k.replace('_', ' ')}" for k in others]
    return found or ["same request"]


def is_version_of(parent: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """Whether `request` reads as a version of `parent` rather than a new prompt typed into the same form."""
    old, new = str(parent.get("prompt") or ""), str(request.get("prompt") or "")
    if old == new or not old or not new:
        return True
    a, b = old.lower().split(), new.lower().split()
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= SAME_PROMPT_SHARE


def parent_for(store: Store, parent_id: str | None, request: Mapping[str, Any]) -> str | None:
    """The parent to record for `request` sent from a form whose values came from `parent_id`: that
    generation while it exists and `request` is a version of it; otherwise none."""
    if not parent_id or (parent := store.get(parent_id)) is None:
        return None
    return parent_id if is_version_of(parent.request, request) else None


@dataclass(frozen=True)
class Node:
    """One version in a tree: its generation (None for a deleted parent, a gap), where it hangs, and what it
    changed from the version above it."""

    id: str
    record: Record | None
    depth: int
    parent_id: str | None
    changes: tuple[str, ...]
    diff: tuple[Piece, ...]  # its prompt against its parent's (or against the person's text, for a rewrite)

    @property
    def is_gap(self) -> bool:
        return self.record is None


@dataclass(frozen=True)
class Tree:
    root_id: str
    nodes: tuple[Node, ...]
    cut: bool = False  # more versions than MOST_VERSIONS: the newest were left out

    def __len__(self) -> int:
        return len(self.nodes)


def tree(store: Store, generation_id: str) -> Tree | None:
    """The family of `generation_id`, read top down; None when there is no such generation."""
    start = store.get(generation_id)
    if start is None:
        return None
    top, gap = _oldest_ancestor(store, start)
    family: dict[str, Record] = {top.id: top}
    children: dict[str, list[Record]] = {}
    level, cut = [top.id], False
    while level and not cut:
        found = [r for r in store.children(level) if r.id not in family]
        for record in found:
            if len(family) >= MOST_VERSIONS:
                cut = True
                break
            family[record.id] = record
            children.setdefault(record.parent_id or "", []).append(record)
        level = [r.id for r in found if r.id in family]

    nodes: list[Node] = []
    if gap is not None:  # the oldest version here came from one that was deleted
        nodes.append(Node(gap, None, 0, None, (), ()))

    _walk(top, 1 if gap else 0, children, nodes)
    return Tree(gap or top.id, tuple(nodes), cut)


def _walk(top: Record, depth: int, children: Mapping[str, Sequence[Record]], nodes: list[Node]) -> None:
    # Iterative, newest last under each parent: a family can be deeper than Python's recursion limit.
    stack: list[tuple[Record, int, Record | None]] = [(top, depth, None)]
    while stack:
        record, at, parent = stack.pop()
        nodes.append(_node(record, at, parent))
        stack.extend((child, at + 1, record) for child in reversed(children.get(record.id, ())))


def _oldest_ancestor(store: Store, record: Record) -> tuple[Record, str | None]:
    """The oldest version still in the history above `record`, and the id of a deleted parent above it."""
    seen = {record.id}
    for _ in range(MOST_ANCESTORS):
        if not record.parent_id or record.parent_id in seen:
            return record, None
        parent = store.get(record.parent_id)
        if parent is None:
            return record, record.parent_id
        seen.add(parent.id)
        record = parent
    return record, None


def version_changes(record: Record, parent: Record | None) -> tuple[str, ...]:
    """What `record` changed from `parent` (None: it has none here), its origin included: a reviewed
    rewrite reads "rewritten by <chat model>" in place of "edited prompt"."""
    origin = record.origin or {}
    if _is_rewrite(origin):
        what = ("rewritten by " + str(origin.get("chat_model") or "a chat model"),)
        return what + (tuple(c for c in changes(parent.request, record.request) if c != "edited prompt") if parent else ())
    if is_frame(origin):
        # The next shot of a chain: a new prompt and model are what a next shot is, not edits to name.
        at = f"frame {int(origin.get('frame', 0)) + 1} ({float(origin.get('at_s', 0)):.2f} s)"
        return (f"next shot from its {at}",)
    return tuple(changes(parent.request, record.request)) if parent is not None else ()


def _is_rewrite(origin: Mapping[str, Any]) -> bool:
    return origin.get("kind") == "rewrite" and isinstance(origin.get("from_prompt"), str)


def _node(record: Record, depth: int, parent: Record | None) -> Node:
    origin = record.origin or {}
    what = version_changes(record, parent)
    if _is_rewrite(origin):
        base = origin["from_prompt"]  # a reviewed rewrite: the change that matters is from the person's own words
    elif parent is not None:
        base = parent.prompt
    else:
        base = record.prompt
    diff = tuple(word_diff(base, record.prompt)) if base != record.prompt else ()
    return Node(record.id, record, depth, record.parent_id, what, diff)
