"""The leaderboard's Bradley-Terry fit, its bootstrap intervals, its ties and its CSV, from votes made up here."""

from __future__ import annotations

import io
import math
import random

import pandas as pd

from videogen import leaderboard
from videogen.store import Vote

# Log-strengths: the order the fit should find, each a clear step from the next.
KNOWN = {"veo2": 2.4, "kling": 1.6, "sora-2": 0.8, "wan": 0.0, "hailuo": -0.8}


def vote(n: int, models: tuple[str, ...], winner: int | None) -> Vote:
    """The `n`th vote among generations of `models`, shown in that order; `winner` an index, None a tie."""
    shown = tuple(f"v{n}-{i}" for i in range(len(models)))
    return Vote(f"v{n}", "", float(n), "a prompt", "text-to-video", shown, models, None if winner is None else shown[winner])


def tournament(strengths: dict[str, float], n: int, *, seed: int = 1) -> list[Vote]:
    """`n` votes as people with these models' strengths would cast them: two to four shown, the best chosen
    with chance in proportion to exp(strength), and some pairs called a tie when close."""
    rng = random.Random(seed)
    votes = []
    for i in range(n):
        models = tuple(rng.sample(list(strengths), min(len(strengths), rng.choice((2, 2, 3, 4)))))
        weights = [math.exp(strengths[m]) for m in models]
        if len(models) == 2 and abs(weights[0] - weights[1]) / sum(weights) < 0.1 and rng.random() < 0.3:
            votes.append(vote(i, models, None))
        else:
            votes.append(vote(i, models, rng.choices(range(len(models)), weights)[0]))
    return votes


def test_a_known_tournament_recovers_its_order_and_its_steps():
    votes = tournament(KNOWN, 3000)
    board = leaderboard.fit(votes)
    assert [s.model for s in board.standings] == list(KNOWN)
    assert [s.rank for s in board.standings] == [1, 2, 3, 4, 5] and not any(s.tied_with for s in board.standings)
    strengths = [s.strength for s in board.standings]
    steps = [a - b for a, b in zip(strengths, strengths[1:])]
    assert all(0.5 < step < 1.1 for step in steps), steps  # 0.8 each, less the prior's pull
    assert all(s.low < s.strength < s.high for s in board.standings)
    assert board.votes == 3000 and sum(s.votes for s in board.standings) == sum(len(v.models) for v in votes)
    assert sum(s.wins for s in board.standings) == sum(v.winner is not None for v in votes)
    assert board.votes_to_separate == 0


def test_two_equal_models_overlap_and_are_shown_tied():
    votes = tournament({"a": 0.0, "b": 0.0, "weak": -2.0}, 600, seed=4)
    first, second, weak = leaderboard.fit(votes).standings
    assert {first.model, second.model} == {"a", "b"}
    assert first.overlaps(second) and first.tied_with == (second.model,) and second.tied_with == (first.model,)
    assert first.rank == second.rank == 1 and weak.rank == 3 and weak.tied_with == ()


def test_ties_only_give_equal_strengths():
    board = leaderboard.fit([vote(i, ("a", "b"), None) for i in range(10)])
    assert [s.strength for s in board.standings] == [0.0, 0.0] and [s.wins for s in board.standings] == [0, 0]
    assert [s.rank for s in board.standings] == [1, 1] and board.votes_to_separate is None  # no number of votes parts them


def test_the_best_of_four_beats_each_of_the_other_three():
    board = leaderboard.fit([vote(0, ("a", "b", "c", "d"), 2)])
    assert board.standings[0].model == "c" and (board.standings[0].votes, board.standings[0].wins) == (1, 1)
    assert {s.model for s in board.standings[1:]} == {"a", "b", "d"}
    assert len({round(s.strength, 9) for s in board.standings[1:]}) == 1  # each lost once, to c alone


def test_more_votes_to_separate_the_top_two():
    close = leaderboard.fit(tournament({"a": 0.3, "b": 0.0, "c": -1.0}, 300, seed=2))
    assert close.standings[0].overlaps(close.standings[1]) and close.votes_to_separate > 0
    # As many again as it says, cast the same way, and the two no longer overlap.
    factor = math.ceil((close.votes + close.votes_to_separate) / close.votes)
    more = leaderboard.fit(tournament({"a": 0.3, "b": 0.0, "c": -1.0}, 300 * factor, seed=2))
    assert [s.model for s in more.standings[:2]] == ["a", "b"] and more.votes_to_separate == 0
    apart = leaderboard.fit(tournament({"a": 3.0, "b": 0.0}, 200))
    assert not apart.standings[0].overlaps(apart.standings[1]) and apart.votes_to_separate == 0


def test_no_votes_one_model_and_a_model_that_never_won():
    empty = leaderboard.fit([])
    assert empty == leaderboard.Leaderboard() and empty.votes_to_separate is None
    assert leaderboard.to_csv(empty).decode().strip() == ",".join(leaderboard.COLUMNS)
    # Generations of one model compared with each other say nothing about models.
    assert leaderboard.fit([vote(0, ("veo2", "veo2"), 0), vote(1, ("veo2", "veo2", "veo2"), 1)]) == leaderboard.Leaderboard()
    one = leaderboard.fit([vote(0, ("a", "b"), 0)])
    assert [s.model for s in one.standings] == ["a", "b"] and one.votes == 1
    assert one.standings[0].overlaps(one.standings[1])  # one vote proves nothing
    never = leaderboard.fit([vote(i, ("a", "b", "loser"), i % 2) for i in range(20)])
    assert never.standings[-1].model == "loser" and never.standings[-1].wins == 0
    assert all(math.isfinite(x) for s in never.standings for x in (s.strength, s.low, s.high))


def test_models_no_vote_connects_are_still_fitted():
    votes = [vote(i, ("a", "b"), 0) for i in range(5)] + [vote(5 + i, ("c", "d"), 1) for i in range(5)]
    board = leaderboard.fit(votes)
    assert {s.model for s in board.standings} == {"a", "b", "c", "d"}
    assert all(math.isfinite(s.strength) for s in board.standings)


def test_the_same_votes_give_the_same_board():
    votes = tournament(KNOWN, 400)
    assert leaderboard.fit(votes) == leaderboard.fit(votes)  # the bootstrap's draws are seeded
    assert leaderboard.fit(votes, seed=1) != leaderboard.fit(votes, seed=2)


def test_the_csv_reads_back_as_the_board():
    board = leaderboard.fit(tournament({"veo2": 1.0, "kling": 0.9, "=cmd|x": -1.0}, 300))
    read = pd.read_csv(io.BytesIO(leaderboard.to_csv(board)), keep_default_na=False)
    expected = leaderboard.frame(board)
    assert list(read.columns) == leaderboard.COLUMNS == list(expected.columns)
    assert read["model"].tolist() == [("'" + m if m.startswith("=") else m) for m in expected["model"]]  # never a formula
    assert read["name"].tolist()[:2] == expected["name"].tolist()[:2]
    for column in ("rank", "votes", "wins"):
        assert read[column].tolist() == expected[column].tolist()
    for column in ("strength", "low", "high"):
        assert read[column].tolist() == expected[column].tolist()  # to the last digit
    assert read["tied_with"].tolist() == expected["tied_with"].tolist() == [" ".join(s.tied_with) for s in board.standings]
    assert expected["name"].tolist()[expected["model"].tolist().index("veo2")] == "Veo 2"
