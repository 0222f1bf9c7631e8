"""How long a model takes, learned from this history.

Run times differ by model, from about 20 s to several minutes, and the
catalog's figure for most models is only this project's estimate by tier.
Once the history holds `MIN_SAMPLES` completed generations of one model and
duration, their median and spread replace it: the poll schedule tightens
around when that model really finishes, and the card's ETA stops being a
guess.

The spread is the log-space standard deviation, estimated robustly from the
interquartile range (one slow outlier must not widen every later schedule).
A handful of runs says little about spread, so the estimate leans towards the
default spread with the weight of PRIOR_RUNS runs, and widens by the
uncertainty of the median itself: a schedule that trusted five lucky runs
would poll before the job could finish and stop polling densely before it did.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from .schedule import DEFAULT_SPREAD, Schedule

#: How many runs' worth of weight the default spread keeps against the observed one.
PRIOR_RUNS = 5
# The variance of a sample median is about pi/2 times that of one run, over n.
_MEDIAN_VARIANCE = math.pi / 2

#: Completed runs of one model and duration needed before the history's figure replaces the catalog's.
MIN_SAMPLES = 5
#: Only the most recent runs count: a model's speed drifts as the vendor changes it.
RECENT = 50
# Bounds on the learned spread: a handful of near-identical runs must not make the schedule brittle,
# and a few wild ones must not make it useless.
MIN_SPREAD, MAX_SPREAD = 0.08, 0.6
# The interquartile range of a normal distribution, in standard deviations.
_IQR_IN_SIGMAS = 1.349
# The poller asks for every poll; the history is read again at most this often.
REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class Estimate:
    typical: float  # median run time, seconds
    spread: float  # log-space sigma
    samples: int  # completed runs behind it; 0 for the catalog's figure
    learned: bool

    @property
    def is_guess(self) -> bool:
        return not self.learned


def learn(seconds: Iterable[float]) -> Estimate | None:
    """An estimate from observed run times, or None while there are fewer than MIN_SAMPLES."""
    runs = sorted(s for s in seconds if s and s > 0)
    if len(runs) < MIN_SAMPLES:
        return None
    n = len(runs)
    q1, _, q3 = statistics.quantiles([math.log(s) for s in runs], n=4, method="inclusive")
    observed = (q3 - q1) / _IQR_IN_SIGMAS
    shrunk = math.sqrt((n * observed**2 + PRIOR_RUNS * DEFAULT_SPREAD**2) / (n + PRIOR_RUNS))
    spread = shrunk * math.sqrt(1 + _MEDIAN_VARIANCE / n)
    return Estimate(typical=statistics.median(runs), spread=min(max(spread, MIN_SPREAD), MAX_SPREAD), samples=n, learned=True)


def duration_of(request: dict) -> str:
    """The key a run time is learned under: the requested duration as text ("" when the model takes none)."""
    value = request.get("duration")
    return "" if value is None else str(value).removesuffix(".0")


class RunTimes:
    """Estimates by (model, duration), read from the store at most every REFRESH_SECONDS.

    `fallback(model)` gives the schedule to use before anything is learned (the
    catalog's figure, or an override such as the demo's job length).
    """

    def __init__(self, store, fallback: Callable[[str], Schedule] = Schedule.for_model) -> None:  # noqa: ANN001 (Store)
        self.store = store
        self.fallback = fallback
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._learned: dict[tuple[str, str], Estimate] = {}

    def estimate(self, model: str, request: dict) -> Estimate:
        learned = self._table().get((model, duration_of(request)))
        if learned is not None:
            return learned
        schedule = self.fallback(model)
        return Estimate(typical=schedule.typical, spread=schedule.spread, samples=0, learned=False)

    def schedule(self, model: str, request: dict) -> Schedule:
        fallback = self.fallback(model)
        estimate = self.estimate(model, request)
        if not estimate.learned:
            return fallback
        return replace(fallback, typical=estimate.typical, spread=estimate.spread)

    def refresh(self) -> None:
        """Read the history now (a test or a finished generation need not wait for the next refresh)."""
        with self._lock:
            self._learned = _learn_all(self.store.run_times(recent=RECENT))
            self._read_at = time.monotonic()

    def _table(self) -> dict[tuple[str, str], Estimate]:
        if time.monotonic() - self._read_at >= REFRESH_SECONDS:
            self.refresh()
        return self._learned


def _learn_all(rows: Iterable[tuple[str, dict, float]]) -> dict[tuple[str, str], Estimate]:
    grouped: dict[tuple[str, str], list[float]] = {}
    for model, request, seconds in rows:
        grouped.setdefault((model, duration_of(request)), []).append(seconds)
    table = {}
    for key, runs in grouped.items():
        if (estimate := learn(runs)) is not None:
            table[key] = estimate
    return table


