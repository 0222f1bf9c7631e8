"""Telling a second click from a second submission, on a fast server and on a slow one."""

from __future__ import annotations

from videogen.double_submit import DoubleSubmitGuard

BODY = {"model": "veo2", "prompt": "a fox"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_same_request_within_the_window_after_its_page_showed_is_a_repeat():
    clock = Clock()
    guard = DoubleSubmitGuard(window=3.0, clock=clock)
    assert not guard.is_repeat(BODY)
    guard.sent(BODY)
    guard.shown()
    clock.now = 2.0
    assert guard.is_repeat(BODY)
    assert not guard.is_repeat({**BODY, "prompt": "a hare"})  # another request is never held back
    clock.now = 3.5
    assert not guard.is_repeat(BODY)  # pressed again on purpose, a moment later


def test_until_the_page_that_answered_it_shows_the_same_request_is_a_repeat_however_late():
    # A busy server: the second click of a double click is handled long after the first create.
    clock = Clock()
    guard = DoubleSubmitGuard(window=3.0, clock=clock)
    guard.sent(BODY)
    clock.now = 30.0
    assert guard.is_repeat(BODY)


def test_the_window_counts_from_when_the_page_showed_not_from_the_send():
    clock = Clock()
    guard = DoubleSubmitGuard(window=3.0, clock=clock)
    guard.sent(BODY)
    clock.now = 10.0  # the rest of the page run was slow
    guard.shown()
    clock.now = 12.0
    assert guard.is_repeat(BODY)
    clock.now = 13.5
    assert not guard.is_repeat(BODY)
