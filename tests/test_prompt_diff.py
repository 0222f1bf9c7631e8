"""The word diff of two prompts: both sides come back exactly, changes are whole words, markup is escaped."""

from __future__ import annotations

import random

import pytest

from videogen.prompt_diff import Piece, summary, to_html, word_diff

_WORDS = ["a", "the", "red", "fox", "runs", "snow", "dawn", "slow", "motion", "café", "naïve", "東京", "🦊", "cinematic"]
_GLUE = [" ", " ", " ", ", ", ". ", "\n", "\n\n", "  ", "\t", "! ", "; ", "—", "'", '"']


def old_side(pieces: list[Piece]) -> str:
    return "".join(p.text for p in pieces if p.op != "added")


def new_side(pieces: list[Piece]) -> str:
    return "".join(p.text for p in pieces if p.op != "removed")


def assert_well_formed(old: str, new: str, pieces: list[Piece]) -> None:
    assert old_side(pieces) == old
    assert new_side(pieces) == new
    assert all(p.text for p in pieces)
    assert all(a.op != b.op for a, b in zip(pieces, pieces[1:]))
    # A run of changes reads "old, then new": an added piece is never followed by a removed one.
    assert all(not (a.op == "added" and b.op == "removed") for a, b in zip(pieces, pieces[1:]))


def made_up_text(rng: random.Random, words: int) -> str:
    parts = [rng.choice(["", " ", "\n"])]
    for _ in range(words):
        parts += [rng.choice(_WORDS), rng.choice(_GLUE)]
    return "".join(parts)


def edited(rng: random.Random, text: str) -> str:
    """`text` with a few random character-level cuts, pastes and swaps, so edits land inside words too."""
    chars = list(text)
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        at = rng.randint(0, len(chars))
        if roll < 0.4 and chars:
            del chars[at : at + rng.randint(1, 12)]
        elif roll < 0.8:
            chars[at:at] = list(rng.choice(_WORDS) + rng.choice(_GLUE))
        elif chars:
            chars[min(at, len(chars) - 1)] = rng.choice(_GLUE)[0]
    return "".join(chars)


@pytest.mark.parametrize("seed", range(40))
def test_both_prompts_come_back_from_the_pieces_after_random_edits(seed):
    rng = random.Random(seed)
    for _ in range(25):
        old = made_up_text(rng, rng.randint(0, 60))
        new = edited(rng, old) if rng.random() < 0.8 else made_up_text(rng, rng.randint(0, 60))
        assert_well_formed(old, new, word_diff(old, new))


def test_a_changed_word_is_removed_and_added_whole_and_the_space_after_it_stays():
    assert word_diff("a red fox runs", "a grey fox runs") == [
        Piece("same", "a "),
        Piece("removed", "red"),
        Piece("added", "grey"),
        Piece("same", " fox runs"),
    ]


def test_added_and_removed_words():
    assert word_diff("a fox runs", "a small fox runs fast") == [
        Piece("same", "a "),
        Piece("added", "small "),
        Piece("same", "fox runs"),
        Piece("added", " fast"),
    ]
    assert word_diff("a small fox runs", "a fox runs") == [Piece("same", "a "), Piece("removed", "small "), Piece("same", "fox runs")]


def test_identical_prompts_give_one_same_piece():
    prompt = "  A fox, at dawn.\n\nSlow motion!  "
    assert word_diff(prompt, prompt) == [Piece("same", prompt)]
    assert summary(word_diff(prompt, prompt)) == "no change"


def test_empty_prompts():
    assert word_diff("", "") == []
    assert word_diff("", "a red fox") == [Piece("added", "a red fox")]
    assert word_diff("a red fox", "") == [Piece("removed", "a red fox")]
    assert word_diff("   ", "") == [Piece("removed", "   ")]
    assert summary([]) == "no change"


def test_punctuation_is_diffed_on_its_own():
    pieces = word_diff("A fox, at dawn.", "A fox at dawn!")
    assert_well_formed("A fox, at dawn.", "A fox at dawn!", pieces)
    assert pieces == [Piece("same", "A fox"), Piece("removed", ","), Piece("same", " at dawn"), Piece("removed", "."), Piece("added", "!")]
    assert summary(pieces) == "punctuation or spacing only"


def test_a_change_of_spacing_alone_is_a_change_that_keeps_the_words():
    pieces = word_diff("a fox\nat dawn", "a fox at  dawn")
    assert_well_formed("a fox\nat dawn", "a fox at  dawn", pieces)
    assert pieces == [
        Piece("same", "a fox"),
        Piece("removed", "\n"),
        Piece("added", " "),
        Piece("same", "at "),  # two spaces for one: the first is unchanged, the second added
        Piece("added", " "),
        Piece("same", "dawn"),
    ]
    assert summary(pieces) == "punctuation or spacing only"


def test_unicode_words_are_whole_words():
    old, new = "Un café naïve à 東京 🦊", "Un thé naïve à 京都 🦊🦊"
    pieces = word_diff(old, new)
    assert_well_formed(old, new, pieces)
    # Which of the two foxes is the new one is the diff's choice; the words are whole either way.
    assert " ".join(p.text for p in pieces if p.op == "removed").split() == ["café", "東京"]
    assert " ".join(p.text for p in pieces if p.op == "added").split() == ["thé", "京都", "🦊"]


def test_a_word_that_makes_up_much_of_a_long_prompt_still_matches():
    # SequenceMatcher's autojunk would call "the" noise in a prompt this long and match none of them.
    old = " ".join(["the fox"] * 150 + ["the end"])
    new = " ".join(["the fox"] * 150 + ["the start"])
    assert word_diff(old, new)[-2:] == [Piece("removed", "end"), Piece("added", "start")]


@pytest.mark.parametrize(
    ("old", "new", "text"),
    [
        ("a red fox", "a grey fox", "+1 word, −1 word"),
        ("a fox", "a small red fox", "+2 words"),
        ("a small red fox runs", "a fox", "−3 words"),
        ("", "one two three", "+3 words"),
        ("same", "same", "no change"),
    ],
)
def test_summary(old, new, text):
    assert summary(word_diff(old, new)) == text


def test_html_marks_changes_and_escapes_every_piece():
    old = 'a fox & a "hen"'
    new = "a fox <script>alert('x')</script> & a 'hen'"
    markup = to_html(word_diff(old, new))
    assert "<script>" not in markup and "</script>" not in markup
    assert "&lt;script&gt;" in markup and "&amp;" in markup
    assert "<ins>" in markup and "<del>" in markup
    assert "&quot;" in markup and "&#x27;" in markup
    assert to_html([Piece("same", "a "), Piece("removed", "<b>"), Piece("added", "x&y")]) == "a <del>&lt;b&gt;</del><ins>x&amp;y</ins>"
    assert to_html([]) == ""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (",." * 2000, ".," * 2000),
        (",." * 2000, ".," * 99),
        (".," * 99, ",." * 2000),
        ("a " * 2000, "a " * 1900 + "b " * 100),
        ("x " + "the fox " * 500, "y " + "the cat " * 30 + "the fox " * 470),
    ],
)
def test_a_prompt_that_repeats_one_word_or_mark_hundreds_of_times_still_comes_back_exactly(old, new):
    # Past a number of equal-word pairs the matcher skips the commonest words: a coarser diff, still exact.
    assert_well_formed(old, new, word_diff(old, new))
