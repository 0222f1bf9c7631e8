"""Prompt lab: the word diff of two versions of a long prompt.

The prompts are made up (fixed seed) from prompt-like phrases, with commas, full stops and paragraph
breaks: the first is cut at 4,000 characters (this project's prompt cap), the second is the first with
about one word in ten replaced, deleted or followed by a new one. The figure is the median of RUNS calls
of `prompt_diff.word_diff()`, after one warm-up. The baseline, in the same run, is the floor under it:
the same `SequenceMatcher` on `str.split()` of both prompts, opcodes only, no pieces built. Target: ≤ 20 ms.

Also shown, for why whitespace rides with the word before it: the same diff with every whitespace run
a token of its own (words, whitespace runs and punctuation marks), opcodes only.
"""

from __future__ import annotations

import difflib
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from videogen import prompt_diff
from videogen.catalog import UNPUBLISHED_PROMPT_LIMIT

from .common import median
from .report import Row, Section, ratio

RUNS = 21
SEED = 23
EDIT_SHARE = 0.1
TARGET_MS = 20.0

_PHRASES = [
    "a red fox trotting through fresh snow",
    "the camera pans slowly to the left",
    "warm golden hour light",
    "shallow depth of field",
    "35 mm film grain",
    "a lighthouse on a windy cliff",
    "waves breaking on black rocks",
    "slow motion",
    "the fox stops and looks back at the camera",
    "soft focus on the background",
    "volumetric fog between the pines",
    "a tiny robot walking along a rain-soaked street",
    "neon signs reflected in the puddles",
    "handheld documentary style",
    "wide establishing shot",
    "the sky turns from orange to deep blue",
]
_WORDS = sorted({word for phrase in _PHRASES for word in phrase.split()}) + ["gently", "suddenly", "crimson", "misty", "distant"]
# The naive tokenisation: every whitespace run a token, as often suggested for a word diff.
_SPACED_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")


def made_up_prompts(rng: random.Random) -> tuple[str, str]:
    """(a 4,000-character prompt, the same with one word in ten changed)."""
    sentences = []
    while sum(len(s) + 1 for s in sentences) < UNPUBLISHED_PROMPT_LIMIT + 200:
        sentence = ", ".join(rng.sample(_PHRASES, rng.randint(2, 4)))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        if rng.random() < 0.15:
            sentences.append("\n\n")
    old = " ".join(sentences).replace(" \n\n ", "\n\n")[:UNPUBLISHED_PROMPT_LIMIT]
    words = old.split(" ")
    for _ in range(int(len(words) * EDIT_SHARE)):
        i = rng.randrange(len(words))
        roll = rng.random()
        if roll < 0.5:
            words[i] = rng.choice(_WORDS)
        elif roll < 0.75:
            del words[i]
        else:
            words.insert(i + 1, rng.choice(_WORDS))
    return old, " ".join(words)


def _times(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def run(quick: bool, work: Path) -> Section:
    runs = 5 if quick else RUNS
    old, new = made_up_prompts(random.Random(SEED))
    pieces = prompt_diff.word_diff(old, new)
    if "".join(p.text for p in pieces if p.op != "added") != old or "".join(p.text for p in pieces if p.op != "removed") != new:
        raise RuntimeError("the word diff does not give back both prompts")
    ours = _times(lambda: prompt_diff.word_diff(old, new), runs)
    split = _times(lambda: difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False).get_opcodes(), runs)
    spaced = _times(
        lambda: difflib.SequenceMatcher(None, _SPACED_TOKENS.findall(old), _SPACED_TOKENS.findall(new), autojunk=False).get_opcodes(),
        max(3, runs // 3),  # far slower: fewer runs keep the section short
    )
    ours_s, split_s, spaced_s = median(ours), median(split), median(spaced)
    section = Section(
        "prompt_lab",
        details={
            "old_chars": len(old),
            "new_chars": len(new),
            "old_words": len(old.split()),
            "edit_share": EDIT_SHARE,
            "seed": SEED,
            "runs": runs,
            "pieces": len(pieces),
            "summary": prompt_diff.summary(pieces),
            "word_diff_s": ours,
            "split_opcodes_s": split,
            "spaced_tokens_opcodes_s": spaced,
        },
    )
    label = f"two {len(old):,}-character prompts, {EDIT_SHARE:.0%} of words changed"
    section.rows += [
        Row(
            "prompt_lab",
            f"Word diff of {label}",
            ours_s * 1000,
            "ms",
            split_s * 1000,
            "SequenceMatcher on str.split, opcodes only",
            ratio(ours_s, split_s),
            "×str.split",
            f"≤ {TARGET_MS:g} ms",
            ours_s * 1000 <= TARGET_MS,
        ),
        Row(
            "prompt_lab",
            "The same with whitespace runs as tokens, opcodes only (info)",
            spaced_s * 1000,
            "ms",
            ours_s * 1000,
            "the word diff",
            ratio(spaced_s, ours_s),
            "×word diff",
        ),
    ]
    return section
