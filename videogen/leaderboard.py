"""The leaderboard: models ranked by Compare's blind votes, with a Bradley-Terry fit and bootstrap intervals.

Each vote becomes comparisons between models: the winner beats every other generation shown (the best of
four is three wins), and a tie is half a win each way. Generations of one model compared with each other say
nothing about models, so a vote among them only is left out. Every two models compared also get one virtual
tie, a prior (as Bayeselo's virtual draws) that keeps a model that never won or never lost finite and draws
few votes towards a tie. `choix` fits the strengths by I-LSR on the matrix of wins, which takes half wins as
they are; `ALPHA` joins models never compared with each other, however remotely.

The 95% interval is a bootstrap over votes: `RESAMPLES` draws of as many votes, with replacement, from a fixed
seed (the same votes give the same board), each fitted again starting from the full fit. Models whose intervals
overlap are tied: a model's rank is one more than the number of models whose interval lies wholly above its
own, so tied models can share one. Which votes count (a kind, a person, a prompt search) is `Store.votes()`'s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from . import catalog
from .store import Vote
from .text import spreadsheet_safe

# Enough draws for the 2.5th and 97.5th percentiles, and few enough for a board of thousands of votes to be
# fitted while the page waits (bench/leaderboard.py).
RESAMPLES = 200
SEED = 19
# Pseudo-comparisons between every two models, a small fraction of one vote: enough to join two groups of models
# no vote has compared, too little to move the strengths of models that were.
ALPHA = 0.01
LEVEL = 0.95


@dataclass(frozen=True)
class Standing:
    """One model's place on the board."""

    model: str
    name: str
    rank: int  # 1 + the models whose interval lies wholly above this one's
    strength: float  # log-strength, the models' mean at 0: a beats b with chance 1 / (1 + exp(b - a))
    low: float  # the 95% interval
    high: float
    votes: int  # votes it was shown in
    wins: int  # votes it won (a tie is no win)
    tied_with: tuple[str, ...] = ()  # the models whose intervals overlap this one's, strongest first

    def overlaps(self, other: Standing) -> bool:
        return self.low <= other.high and other.low <= self.high


@dataclass(frozen=True)
class Leaderboard:
    standings: tuple[Standing, ...] = ()  # strongest first
    votes: int = 0  # the votes counted: those comparing at least two models
    # More votes until the top two's intervals no longer overlap; 0: they do not; None: no top two, or equal.
    votes_to_separate: int | None = None


def fit(votes: Iterable[Vote], *, resamples: int = RESAMPLES, seed: int = SEED) -> Leaderboard:
    """The board from these votes (an empty one when no vote compares two models)."""
    table = _Comparisons(votes)
    if not table.count:
        return Leaderboard()
    # scipy is slow to import, and only this page needs it.
    import choix

    point = choix.ilsr_pairwise_dense(table.wins(), alpha=ALPHA)
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, len(table.models)))
    for i in range(resamples):
        drawn = np.bincount(rng.integers(0, table.pool, table.pool), minlength=table.pool)
        draws[i] = choix.ilsr_pairwise_dense(table.wins(drawn), alpha=ALPHA, initial_params=point)
    tail = (1 - LEVEL) / 2 * 100
    lows, highs = np.percentile(draws, [tail, 100 - tail], axis=0) if resamples else (point, point)
    order = sorted(range(len(table.models)), key=lambda i: (-point[i], table.models[i]))
    rows = [
        Standing(
            model=table.models[i],
            name=catalog.name_of(table.models[i]),
            rank=1 + int(np.sum(lows > highs[i])),
            strength=float(point[i]),
            low=float(lows[i]),
            high=float(highs[i]),
            votes=table.shown[i],
            wins=table.won[i],
        )
        for i in order
    ]
    standings = tuple(replace(row, tied_with=tuple(o.model for o in rows if o is not row and o.overlaps(row))) for row in rows)
    return Leaderboard(standings, table.count, votes_to_separate(standings, table.pool))


def votes_to_separate(standings: tuple[Standing, ...], votes: int) -> int | None:
    """How many more votes, cast like these, until the top two's intervals no longer overlap.

    `votes` is how many the intervals were drawn from (n). A bootstrap interval narrows as one over the square
    root of the votes, so after `m` more each side of each interval is `sqrt(n / (n + m))` of what it is now,
    around the same strength. The first two part once the gap between their strengths exceeds the leader's
    lower side plus the runner-up's upper side: `m = n * ((lower + upper) / gap)^2 - n`, rounded up. 0 when
    they do not overlap now; None when there is no second model, or the two are level (no number of votes
    parts them).
    """
    if len(standings) < 2 or votes <= 0:
        return None
    first, second = standings[0], standings[1]
    if not first.overlaps(second):
        return 0
    gap = first.strength - second.strength
    if gap < 1e-9:  # level, but for the fit's rounding
        return None
    sides = (first.strength - first.low) + (second.high - second.strength)
    return max(1, math.ceil(votes * ((sides / gap) ** 2 - 1)))


COLUMNS = ["rank", "model", "name", "strength", "low", "high", "votes", "wins", "tied_with"]


def frame(board: Leaderboard) -> pd.DataFrame:
    """The board as a table, strongest first; `tied_with` is the tied models' ids, space-separated."""
    rows = [{**vars(s), "tied_with": " ".join(s.tied_with)} for s in board.standings]
    return pd.DataFrame(rows, columns=COLUMNS)


def to_csv(board: Leaderboard) -> bytes:
    table = frame(board)
    for column in ("model", "name", "tied_with"):  # a model id is whatever a server or a person sent
        table[column] = table[column].map(spreadsheet_safe)
    return table.to_csv(index=False).encode("utf-8")


class _Comparisons:
    """The votes as arrays of comparisons between models, so that a resample is a matter of weights."""

    def __init__(self, votes: Iterable[Vote]) -> None:
        index: dict[str, int] = {}
        self.shown: list[int] = []  # per model: the votes it was shown in, and those it won
        self.won: list[int] = []
        vote_of: list[int] = []  # per comparison: its vote, its cell in the matrix of wins, and its weight
        cells: list[tuple[int, int]] = []
        weights: list[float] = []
        self.count = 0
        for vote in votes:
            if not (pairs := _pairs(vote)):
                continue
            for model in dict.fromkeys(vote.models):
                if model not in index:
                    index[model] = len(index)
                    self.shown.append(0)
                    self.won.append(0)
                self.shown[index[model]] += 1
            if vote.winning_model is not None:
                self.won[index[vote.winning_model]] += 1
            for winner, loser, weight in pairs:
                vote_of.append(self.count)
                cells.append((index[winner], index[loser]))
                weights.append(weight)
            self.count += 1
        # One virtual tie between every two models compared (as Bayeselo's prior of virtual draws), among the
        # votes a resample draws from. Without it a pair whose every vote went one way would come out of every
        # resample alike, an interval of no width: a single vote would part two models for good.
        self.pool = self.count
        for i, j in sorted({(min(i, j), max(i, j)) for i, j in cells}):
            vote_of += [self.pool, self.pool]
            cells += [(i, j), (j, i)]
            weights += [0.5, 0.5]
            self.pool += 1
        self.models = list(index)
        self._vote = np.array(vote_of, dtype=np.intp)
        self._cell = np.array([i * len(index) + j for i, j in cells], dtype=np.intp)
        self._weight = np.array(weights)

    def wins(self, drawn: np.ndarray | None = None) -> np.ndarray:
        """wins[i, j]: how often model i beat model j, each vote of the pool counted `drawn[vote]` times (once without)."""
        n = len(self.models)
        weights = self._weight if drawn is None else self._weight * drawn[self._vote]
        return np.bincount(self._cell, weights=weights, minlength=n * n).reshape(n, n)


def _pairs(vote: Vote) -> list[tuple[str, str, float]]:
    """(winner, loser, weight) of each comparison between two models the vote makes."""
    if vote.winner is None:
        a, b = vote.models
        return [] if a == b else [(a, b, 0.5), (b, a, 0.5)]
    best = vote.winning_model
    return [(best, model, 1.0) for model in vote.models if model != best]
