"""When to poll a generation next, from its age and the model's typical run time.

Run times of a model spread around a typical value roughly log-normally
(veo2: about 45 s, most between 30 and 70 s). Polling every few seconds from
the start wastes most requests on generations that cannot be done yet, and
polling rarely adds seconds of delay to every result. So the schedule is:

    age:    0 ........ 5th percentile ...... 66th .......... 98th percentile ......
    poll:   none       every 2.1 s           every 1.2 s     backing off, up to T/3

The window scales with the model's run time; the spacing inside it does not:
it is what sets the delay a person feels (half the spacing, on average), and a
120 s model's result is as awaited as a 20 s one's. `time_scale` shrinks
everything at once, for tests and the bench that run jobs faster than life.

Early polls are skipped: the API rejects a bad request synchronously at
create, and a generation that fails on the server does so at the end of its
run, so an early poll almost never finds anything. Late in the window fewer
generations are left, so denser polls there are cheap and pull the median
delay down. The constants were tuned with `make bench` against its targets
(bench/detection.py, bench/learning.py): a median delay under 1 s with at most
half the requests of a 2 s loop, and a p95 delay under 2 s, for veo2 and for
models whose run times are learned from a few runs. A median learned from a
few runs is only roughly right, and it moves the whole window, so the
constants must meet the targets over many learning draws, not one. How
they fared is in docs/measurements.md.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .. import catalog

# Log-normal sigma of run times around the typical value: ±25% covers most of
# the 40-60 s the vendor quotes for veo2.
DEFAULT_SPREAD = 0.25
# The run time the constants below were tuned at (veo2's, with bench/detection.py).
TUNED_AT_SECONDS = 45.0


@dataclass(frozen=True)
class Schedule:
    typical: float  # median run time, seconds
    spread: float = DEFAULT_SPREAD
    # Shape, in units of the typical time and of z-scores of the run-time distribution.
    start_z: float = -1.6  # first poll: the ~5th percentile of run times
    mid_step: float = 2.1  # seconds between polls until late_z
    late_z: float = 0.4  # from the ~66th percentile: few jobs are left, so dense polls there are cheap
    late_step: float = 1.2  # seconds: denser where completion is most likely per remaining job
    tail_z: float = 2.0  # past the ~98th percentile: back off
    tail_growth: float = 0.25  # each tail step is this share of the time spent in the tail so far
    tail_cap: float = 1 / 3  # never slower than T/3 (15 s for veo2, the vendor's own examples)
    overdue_factor: float = 10.0  # after 10 T, poll once per T: still never give up on a paid job
    time_scale: float = 1.0  # jobs run this many times faster than life (tests, bench): steps shrink to match

    @classmethod
    def for_model(cls, model_id: str, *, duration: object = None, time_scale: float = 1.0) -> Schedule:
        """The catalog's run time for the model, for a clip of `duration` seconds where the vendor's figures
        depend on it (a 10 s kling master clip takes twice as long as a 5 s one)."""
        try:
            typical = catalog.get(model_id).typical_for(duration)
        except catalog.UnknownModelError:
            typical = catalog.DEFAULT_TYPICAL_SECONDS
        return cls(typical=typical / time_scale, time_scale=time_scale)

    @classmethod
    def scaled(cls, typical: float) -> Schedule:
        """The schedule as tuned for veo2's 45 s, shrunk or stretched as a whole to jobs of `typical` seconds.

        For a server whose every job takes a set time, far from life: the
        demo's simulator, a test's, the bench's.
        """
        return cls(typical=typical, time_scale=TUNED_AT_SECONDS / typical)

    def age_at(self, z: float) -> float:
        """The run time at z standard deviations (in log space) from the typical one."""
        return self.typical * math.exp(z * self.spread)

    def first_poll_age(self) -> float:
        return self.age_at(self.start_z)

    def _late_origin(self) -> float:
        """The first poll of the early grid at or past late_z: the denser grid carries on from it, with no short step between."""
        start, step = self.first_poll_age(), self.mid_step / self.time_scale
        return start + math.ceil((self.age_at(self.late_z) - start) / step - _EPSILON) * step

    def delay(self, age: float) -> float:
        """Seconds from now until the next poll of a generation that is `age` seconds old."""
        start = self.first_poll_age()
        if start - age > _EPSILON:  # not "age < start": a poll planned for `start` must not land a hair early forever
            return start - age
        late_origin = self._late_origin()
        if age < late_origin - _EPSILON:
            return _to_grid(age, start, self.mid_step / self.time_scale)
        z = math.log(age / self.typical) / self.spread
        if z < self.tail_z:
            return _to_grid(age, late_origin, self.late_step / self.time_scale)
        if age > self.overdue_factor * self.typical:
            return self.typical
        in_tail = age - self.age_at(self.tail_z)
        step = max(self.late_step / self.time_scale, self.tail_growth * in_tail)
        return min(step, self.tail_cap * self.typical)


_EPSILON = 1e-6


def _to_grid(age: float, origin: float, step: float) -> float:
    """Seconds to the next poll on a fixed grid (origin + k * step).

    Stepping from each poll's actual time would let every fetch's latency and every
    late wake-up push all later polls back; on a grid they stay where the schedule
    put them. A poll that ran very late skips a grid point rather than follow at once.
    """
    ahead = origin + (math.floor((age - origin) / step) + 1) * step - age
    return ahead if ahead >= step / 4 else ahead + step


def error_backoff(failures: int, *, base: float = 2.0, cap: float = 60.0, retry_after: float | None = None) -> float:
    """Wait after `failures` consecutive failed polls: exponential with jitter, never less than Retry-After."""
    step = min(cap, base * 2 ** max(0, failures - 1))
    wait = step * random.uniform(0.75, 1.0)
    return max(wait, retry_after or 0.0)
