"""The leaderboard: fitting 5,000 blind votes over 30 models, bootstrap intervals included.

The votes are made up from fixed strengths (log-strengths drawn from a standard normal, fixed seed): two to four shown,
the best chosen with chance in proportion to exp(strength), one close pair in ten called a tie. The figure
is the median of RUNS calls of `leaderboard.fit()`, each with its `RESAMPLES` bootstrap fits, after one
warm-up (choix and scipy are imported on first use). The baseline, in the same run, is the same fit
without the bootstrap: one Bradley-Terry fit of the same votes. Target: ≤ 0.5 s.

Also measured, for the page's whole wait: the same votes read back from a SQLite store (`Store.votes()`),
where they were recorded among 300 generations.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

from videogen import leaderboard
from videogen.api import Answer, Status
from videogen.store import Store, Vote

from .common import median
from .report import Row, Section, ratio

VOTES = 5_000
MODELS = 30
GENERATIONS_PER_MODEL = 10
RUNS = 7
SEED = 19
TARGET_S = 0.5


def made_up_votes(n: int, models: int, rng: random.Random) -> list[Vote]:
    strengths = {f"model-{i:02d}": rng.gauss(0, 1) for i in range(models)}
    votes = []
    for i in range(n):
        shown_models = tuple(rng.sample(list(strengths), rng.choice((2, 2, 2, 3, 4))))
        shown = tuple(f"{model}/{rng.randrange(GENERATIONS_PER_MODEL)}" for model in shown_models)
        weights = [math.exp(strengths[m]) for m in shown_models]
        tie = len(shown) == 2 and abs(weights[0] - weights[1]) / sum(weights) < 0.2 and rng.random() < 0.1
        winner = None if tie else rng.choices(shown, weights)[0]
        votes.append(Vote(f"v{i}", "", float(i), "a prompt", "text-to-video", shown, shown_models, winner))
    return votes


def _times(votes: list[Vote], runs: int, **options: int) -> list[float]:
    leaderboard.fit(votes, **options)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        leaderboard.fit(votes, **options)
        times.append(time.perf_counter() - started)
    return times


def _read_times(work: Path, votes: list[Vote], runs: int) -> list[float]:
    store = Store(work / "leaderboard-data")
    for gen_id in sorted({gen_id for v in votes for gen_id in v.shown}):
        store.add(Answer(gen_id, Status.QUEUED), request={"model": gen_id.split("/")[0], "prompt": "a prompt"}, server="bench")
    for v in votes:
        store.record_vote(v.shown, v.winner, at=v.at)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        read = store.votes()
        times.append(time.perf_counter() - started)
    if len(read) != len(votes):
        raise RuntimeError(f"the store gave back {len(read)} votes of {len(votes)}")
    store.close()
    return times


def run(quick: bool, work: Path) -> Section:
    runs = 3 if quick else RUNS
    votes = made_up_votes(VOTES, MODELS, random.Random(SEED))
    board = leaderboard.fit(votes)
    if len(board.standings) != MODELS or board.votes != VOTES:
        raise RuntimeError(f"the board holds {len(board.standings)} models and {board.votes} votes")
    full, single = _times(votes, runs), _times(votes, runs, resamples=0)
    read = _read_times(work, votes[: VOTES // 10] if quick else votes, runs)
    full_s, single_s, read_s = median(full), median(single), median(read)
    section = Section(
        "leaderboard",
        details={
            "votes": VOTES,
            "models": MODELS,
            "resamples": leaderboard.RESAMPLES,
            "runs": runs,
            "seed": SEED,
            "fit_s": full,
            "single_fit_s": single,
            "read_s": read,
            "read_votes": VOTES // 10 if quick else VOTES,
            "tied_at_the_top": len(board.standings[0].tied_with),
            "votes_to_separate": board.votes_to_separate,
        },
    )
    label = f"{VOTES:,} votes, {MODELS} models"
    section.rows += [
        Row(
            "leaderboard",
            f"Leaderboard fit, {label}, {leaderboard.RESAMPLES} bootstrap fits",
            full_s * 1000,
            "ms",
            single_s * 1000,
            "one fit, no bootstrap",
            ratio(full_s, single_s),
            "×one fit",
            f"≤ {TARGET_S:g} s",
            full_s <= TARGET_S,
        ),
        Row(
            "leaderboard",
            f"Read the votes back from SQLite ({section.details['read_votes']:,}) (info)",
            read_s * 1000,
            "ms",
            full_s * 1000,
            "the fit",
            ratio(read_s, full_s),
            "read/fit",
        ),
    ]
    return section
