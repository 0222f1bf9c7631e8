"""What changed between two versions of a prompt, word by word.

The diff runs on the prompt's words and punctuation marks; the whitespace after
each one rides along with it instead of being a token of its own. Spaces are
the commonest token by far, and every one of them would be a candidate match
for every other, which makes `SequenceMatcher` slow on long prompts and lets it
pair up unrelated words around a shared space. Whitespace that differs between
two matched words is reported as a change of its own, so joining the pieces of
either side always gives back that side exactly.

Each run of changes is one removed piece followed by one added piece (either
may be absent), so the markup reads "old words, then new words" at each place.
"""

from __future__ import annotations

import difflib
import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Op = Literal["same", "added", "removed"]

# A word, or one punctuation mark (emoji and other symbols included), with the whitespace after it.
_TOKEN = re.compile(r"(\w+|[^\w\s])(\s*)")
_LEADING_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"\w+")
# Pairs of equal words across the two sides past which the full match is given up (see `_opcodes`).
_MAX_PAIRS = 50_000
_BACKWARDS = {"insert": "delete", "delete": "insert"}


@dataclass(frozen=True)
class Piece:
    """A stretch of text that both versions share, or that only one of them has."""

    op: Op
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """The pieces that turn `old` into `new`.

    The "same" and "removed" pieces joined give `old`; the "same" and "added" pieces joined give `new`.
    No two neighbours have the same op, and no piece is empty.
    """
    old_head, old_tokens = _tokens(old)
    new_head, new_tokens = _tokens(new)
    out = _Pieces()
    out.pair(old_head, new_head)
    old_words = [word for word, _ in old_tokens]
    new_words = [word for word, _ in new_tokens]
    for tag, i1, i2, j1, j2 in _opcodes(old_words, new_words):
        removed, added = old_tokens[i1:i2], new_tokens[j1:j2]
        if tag == "equal":
            if removed == added:
                out.add("same", _joined(removed))
                continue
            for (word, old_space), (_, new_space) in zip(removed, added):
                out.add("same", word)
                out.pair(old_space, new_space)
            continue
        out.add("removed", _joined(removed))
        out.add("added", _joined(added))
    return out.done()


def summary(pieces: Iterable[Piece]) -> str:
    """A short account of the change, such as "+3 words, −1 word"; "no change" when there is none."""
    added = removed = 0
    changed = False
    for piece in pieces:
        if piece.op == "added":
            added += len(_WORD.findall(piece.text))
            changed = True
        elif piece.op == "removed":
            removed += len(_WORD.findall(piece.text))
            changed = True
    if not changed:
        return "no change"
    if not added and not removed:
        return "punctuation or spacing only"
    parts = []
    if added:
        parts.append(f"+{added} {_words(added)}")
    if removed:
        parts.append(f"−{removed} {_words(removed)}")
    return ", ".join(parts)


def to_html(pieces: Iterable[Piece]) -> str:
    """The pieces as inline HTML: added text in `<ins>`, removed text in `<del>`, all of it escaped.

    A prompt is text someone typed, never markup, so every piece goes through `html.escape`.
    Line breaks are kept as characters: show the result where whitespace is preserved
    (`white-space: pre-wrap`) to see them.
    """
    parts = []
    for piece in pieces:
        text = html.escape(piece.text)
        if piece.op == "added":
            parts.append(f"<ins>{text}</ins>")
        elif piece.op == "removed":
            parts.append(f"<del>{text}</del>")
        else:
            parts.append(text)
    return "".join(parts)


def _tokens(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(the whitespace before the first word, each word or mark with the whitespace after it)."""
    head = _LEADING_SPACE.match(text)
    start = head.end() if head else 0
    return text[:start], _TOKEN.findall(text, start)


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """`SequenceMatcher` opcodes for two word lists, with the start and end they share matched first."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    counts = Counter(new_mid)
    # autojunk treats any word making up 1% of a long prompt ("the", ",") as noise and matches none of them,
    # so it is off. But the matcher's work grows with the pairs of equal words across the two sides, which a
    # prompt that repeats one word or mark hundreds of times makes quadratic: then autojunk is left on, for a
    # coarser diff (still exact) in good time. It only looks at the second side, so that is the longer one.
    if sum(counts[word] for word in old_mid) <= _MAX_PAIRS:
        middle = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=False).get_opcodes()
    elif len(new_mid) >= len(old_mid):
        middle = difflib.SequenceMatcher(None, old_mid, new_mid).get_opcodes()
    else:
        backwards = difflib.SequenceMatcher(None, new_mid, old_mid).get_opcodes()
        middle = [(_BACKWARDS.get(tag, tag), i1, i2, j1, j2) for tag, j1, j2, i1, i2 in backwards]
    opcodes = [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in middle]
    if head:
        opcodes.insert(0, ("equal", 0, head, 0, head))
    if tail:
        opcodes.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return opcodes


def _joined(tokens: list[tuple[str, str]]) -> str:
    return "".join(word + space for word, space in tokens)


def _shared_space(a: str, b: str) -> int:
    """How many leading characters `a` and `b` share that are all whitespace."""
    n = 0
    for x, y in zip(a, b):
        if x != y or not x.isspace():
            break
        n += 1
    return n


def _words(count: int) -> str:
    return "word" if count == 1 else "words"


class _Pieces:
    """Pieces as they are built: empty ones dropped, neighbours of one op merged, and each run of
    changes kept as one removed piece then one added piece. Texts are kept as lists of parts until
    `done`, so a long unchanged stretch is joined once rather than copied at every word."""

    def __init__(self) -> None:
        self._runs: list[tuple[Op, list[str]]] = []

    def pair(self, old: str, new: str) -> None:
        """Text that sits at the same place in both versions: the same, or a change."""
        if old == new:
            self.add("same", old)
        else:
            self.add("removed", old)
            self.add("added", new)

    def add(self, op: Op, text: str) -> None:
        if not text:
            return
        runs = self._runs
        if runs and runs[-1][0] == op:
            runs[-1][1].append(text)
        elif op == "removed" and runs and runs[-1][0] == "added":
            # Removed text goes before the added text of the same run of changes.
            if len(runs) > 1 and runs[-2][0] == "removed":
                runs[-2][1].append(text)
            else:
                runs.insert(len(runs) - 1, ("removed", [text]))
        else:
            runs.append((op, [text]))

    def done(self) -> list[Piece]:
        joined = [(op, "".join(parts)) for op, parts in self._runs]
        out = _Pieces()
        for i, (op, text) in enumerate(joined):
            if op == "removed" and i + 1 < len(joined) and joined[i + 1][0] == "added":
                continue  # told with the added text that follows
            if op == "added" and i and joined[i - 1][0] == "removed":
                out._change(joined[i - 1][1], text)
            else:
                out.add(op, text)
        return [Piece(op, "".join(parts)) for op, parts in out._runs]

    def _change(self, old: str, new: str) -> None:
        """`old` replaced by `new`, with the whitespace both start or end with told as unchanged
        (a replaced word keeps the space after it; "fox, at" to "fox at" removes only the comma)."""
        head = _shared_space(old, new)
        self.add("same", old[:head])
        old, new = old[head:], new[head:]
        tail = _shared_space(old[::-1], new[::-1])
        self.add("removed", old[: len(old) - tail])
        self.add("added", new[: len(new) - tail])
        self.add("same", old[len(old) - tail :])
