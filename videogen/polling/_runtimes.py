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

import inspect
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from ..api import Status
from ._schedule import DEFAULT_SPREAD, Schedule

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
class RunTimeEstimate:
    typical: float  # median run time, seconds
    spread: float  # log-space sigma
    samples: int  # completed runs behind it; 0 for the catalog's figure
    learned: bool

    @property
    def is_guess(self) -> bool:
        return not self.learned


def learn(seconds: Iterable[float]) -> RunTimeEstimate | None:
    """An estimate from observed run times, or None while there are fewer than MIN_SAMPLES."""
    runs = sorted(s for s in seconds if s and s > 0)
    if len(runs) < MIN_SAMPLES:
        return None
    n = len(runs)
    q1, _, q3 = statistics.quantiles([math.log(s) for s in runs], n=4, method="inclusive")
    observed = (q3 - q1) / _IQR_IN_SIGMAS
    shrunk = math.sqrt((n * observed**2 + PRIOR_RUNS * DEFAULT_SPREAD**2) / (n + PRIOR_RUNS))
    spread = shrunk * math.sqrt(1 + _MEDIAN_VARIANCE / n)
    return RunTimeEstimate(typical=statistics.median(runs), spread=min(max(spread, MIN_SPREAD), MAX_SPREAD), samples=n, learned=True)


def duration_of(request: dict) -> str:
    """The key a run time is learned under: the requested duration as text ("" when the model takes none)."""
    value = request.get("duration")
    return "" if value is None else str(value).removesuffix(".0")


def by_request(schedule_for: Callable[..., Schedule]) -> Callable[[str, Mapping], Schedule]:
    """`schedule_for` as a function of the model and the request.

    One that takes a `duration` (Schedule.for_model does) gets the request's, so a 10 s clip is
    planned with the vendor's figure for 10 s; one of the model alone (a test's, the demo's set job
    length) is called as it is.
    """
    try:
        takes_duration = "duration" in inspect.signature(schedule_for).parameters
    except (TypeError, ValueError):
        takes_duration = False
    if takes_duration:
        return lambda model, request: schedule_for(model, duration=duration_of(request) or None)
    return lambda model, request: schedule_for(model)


@dataclass(frozen=True)
class PollPlan:
    """When to poll one generation next, and what to promise: a schedule, and the time its ages count from.

    Most generations are planned from their create. One that a poll saw queued
    is waiting for the server: it cannot finish before its run has even begun,
    so it is polled every `queue_step` to catch the start, and once a poll sees
    it generating the plan starts again from that moment, with the model's run
    time (learned from generations whose start was seen the same way).
    """

    schedule: Schedule
    origin: float
    estimate: RunTimeEstimate
    waiting: bool = False  # seen queued by a poll: the run has not begun

    @property
    def queue_step(self) -> float:
        """Seconds between polls of a queued generation: a fifth of its run, within 2 to 15 s of life."""
        life = self.schedule.typical * self.schedule.time_scale
        return min(max(QUEUE_STEP_SHARE * life, QUEUE_STEP_RANGE[0]), QUEUE_STEP_RANGE[1]) / self.schedule.time_scale

    def first_due(self) -> float:
        return self.origin + self.schedule.first_poll_age()

    def delay(self, now: float) -> float:
        return self.queue_step if self.waiting else self.schedule.delay(max(0.0, now - self.origin))

    def remaining(self, now: float) -> float:
        """Seconds until the typical finish (negative once past it); a waiting one still has its whole run."""
        return self.schedule.typical if self.waiting else self.origin + self.schedule.typical - now


QUEUE_STEP_SHARE = 0.2
QUEUE_STEP_RANGE = (2.0, 15.0)


def poll_plan(record, total: Schedule, total_estimate: RunTimeEstimate, run: RunTimeEstimate | None = None) -> PollPlan:  # record: a Record
    """The plan for `record`: from its create, or, once a poll saw it queued, from the start of its run.

    `total` is the schedule from create to finish; `run`, when learned, the
    time from the start of the run to the finish.
    """
    run_schedule = total if run is None else replace(total, typical=run.typical, spread=run.spread)
    run_estimate = total_estimate if run is None else run
    if record.status is Status.QUEUED and record.queued_until is not None:
        return PollPlan(run_schedule, origin=record.queued_until, estimate=run_estimate, waiting=True)
    window = record.start_window
    if record.status is Status.GENERATING and window is not None:
        # The run began between the last poll that saw it queued and the first that saw it generating.
        return PollPlan(run_schedule, origin=(window[0] + window[1]) / 2, estimate=run_estimate)
    return PollPlan(total, origin=record.created_at, estimate=total_estimate)


class RunTimes:
    """Estimates by (model, duration), read from the store at most every REFRESH_SECONDS.

    Two of them: from create to finish, and from the start of the run to the
    finish (only from generations whose start a poll saw, see `Plan`).
    `fallback(model)` gives the schedule to use before anything is learned (the
    catalog's figure, or an override such as the demo's job length); one that
    takes a `duration` gets the request's (see `by_request`).
    """

    def __init__(self, store, fallback: Callable[..., Schedule] = Schedule.for_model) -> None:  # store: a Store
        self.store = store
        self.fallback = fallback
        self._fallback = by_request(fallback)
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._learned: dict[tuple[str, str, str], RunTimeEstimate] = {}

    def estimate(self, model: str, request: dict) -> RunTimeEstimate:
        """From create to finish: learned, or the fallback's figure (a guess)."""
        learned = self._table().get(("total", model, duration_of(request)))
        if learned is not None:
            return learned
        schedule = self._fallback(model, request)
        return RunTimeEstimate(typical=schedule.typical, spread=schedule.spread, samples=0, learned=False)

    def schedule(self, model: str, request: dict) -> Schedule:
        fallback = self._fallback(model, request)
        estimate = self.estimate(model, request)
        if not estimate.learned:
            return fallback
        return replace(fallback, typical=estimate.typical, spread=estimate.spread)

    def poll_plan(self, record) -> PollPlan:  # record: a Record
        run = self._table().get(("run", record.model, duration_of(record.request)))
        return poll_plan(record, self.schedule(record.model, record.request), self.estimate(record.model, record.request), run)

    def refresh(self) -> None:
        """Read the history now (a test or a finished generation need not wait for the next refresh)."""
        with self._lock:
            self._learned = _learn_all(self.store.run_times(recent=RECENT))
            self._read_at = time.monotonic()

    def _table(self) -> dict[tuple[str, str, str], RunTimeEstimate]:
        if time.monotonic() - self._read_at >= REFRESH_SECONDS:
            self.refresh()
        return self._learned


def _learn_all(rows: Iterable[tuple]) -> dict[tuple[str, str, str], RunTimeEstimate]:
    """rows: (model, request, created_at, queued_until, started_at, completed_at)."""
    grouped: dict[tuple[str, str, str], list[float]] = {}
    for model, request, created_at, queued_until, started_at, completed_at in rows:
        key = duration_of(request)
        grouped.setdefault(("total", model, key), []).append(completed_at - created_at)
        if queued_until is not None and started_at is not None and queued_until <= started_at <= completed_at:
            grouped.setdefault(("run", model, key), []).append(completed_at - (queued_until + started_at) / 2)
    table = {}
    for key, runs in grouped.items():
        if (estimate := learn(runs)) is not None:
            table[key] = estimate
    return table
