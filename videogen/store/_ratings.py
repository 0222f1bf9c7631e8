"""What people think of generations: a rating of 1 to 5 or a rejection, and the blind votes of Compare.

A rating is one person's (with sign-in off everyone is the same person, ''), kept per generation and
dropped with it. A vote keeps its own copy of what was shown, so the leaderboard still counts it after
the generations are deleted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The rating scale, worst to best.
RATINGS = range(1, 6)
#: How many generations one vote can compare: two (A, B or a tie), or up to four (the best one).
SHOWN = range(2, 5)


@dataclass(frozen=True)
class Rating:
    """A generation's rating: one person's own, beside the team's (which counts theirs too)."""

    generation_id: str
    rating: int | None = None  # this person's; None: not rated
    rejected: bool = False  # this person rejected it
    team_average: float | None = None  # over everyone who rated it
    team_count: int = 0  # how many rated it
    team_rejections: int = 0  # how many rejected it


@dataclass(frozen=True)
class Vote:
    """One blind comparison: the generations shown, in order, and the one that won."""

    id: str
    person: str  # who voted ('' with sign-in off)
    at: float
    prompt: str
    kind: str  # the kind every model shown shares (catalog.KINDS); '' when they differ or are unknown
    shown: tuple[str, ...]  # generation ids, in the order shown (A, B, ...)
    models: tuple[str, ...]  # their models, in the same order
    winner: str | None  # the generation that won; None for a tie, which only two can be

    @property
    def winning_model(self) -> str | None:
        return None if self.winner is None else self.models[self.shown.index(self.winner)]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Vote:
        return cls(
            id=row["id"],
            person=row["person"],
            at=row["voted_at"],
            prompt=row["prompt"],
            kind=row["kind"],
            shown=tuple(json.loads(row["shown_json"])),
            models=tuple(json.loads(row["models_json"])),
            winner=row["winner_id"],
        )


class MissingGenerations(LookupError):
    """A vote named generations that no longer exist (deleted meanwhile); nothing was recorded."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        which = f"generation {self.missing[0]} was" if len(self.missing) == 1 else f"generations {', '.join(self.missing)} were"
        super().__init__(f"The vote was not recorded: {which} deleted meanwhile.")


def check_vote(shown: Sequence[str], winner: str | None) -> None:
    """Refuse a vote that could not have been cast: raises ValueError."""
    if len(shown) not in SHOWN:
        raise ValueError(f"A vote compares {SHOWN.start} to {SHOWN.stop - 1} generations, not {len(shown)}.")
    if len(set(shown)) != len(shown):
        raise ValueError("A vote cannot show one generation twice.")
    if winner is None and len(shown) != 2:
        raise ValueError("Only two generations can tie; with more, the vote names the best one.")
    if winner is not None and winner not in shown:
        raise ValueError(f"The winner {winner} is not among the generations shown.")
