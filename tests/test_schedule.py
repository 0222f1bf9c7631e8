from __future__ import annotations

import pytest

from videogen.polling import Schedule, error_backoff


def poll_ages(schedule: Schedule, until: float) -> list[float]:
    ages, age = [], 0.0
    while age < until:
        age += schedule.delay(age)
        ages.append(age)
    return ages


def test_veo2_schedule_is_sparse_early_dense_when_likely_and_backs_off():
    s = Schedule.for_model("veo2")
    assert s.typical == 45
    ages = poll_ages(s, 600)
    assert 29 < ages[0] < 32  # nothing before the earliest plausible finish
    steps = [b - a for a, b in zip(ages, ages[1:])]
    in_window = [st for a, st in zip(ages, steps) if 30 <= a <= 70]
    assert max(in_window) <= 2.1 + 1e-9
    assert min(st for a, st in zip(ages, steps) if 40 <= a <= 70) == pytest.approx(1.2)  # densest past the median
    late = [st for a, st in zip(ages, steps) if 200 < a < 440]
    assert late and max(late) <= 15 + 1e-9 and min(late) > 5  # sparse again, capped at T/3


def test_polls_never_stop_for_a_very_late_job():
    s = Schedule(typical=45)
    assert s.delay(3600) == pytest.approx(45)
    assert s.delay(10**6) == pytest.approx(45)


def test_the_window_scales_with_the_typical_time_but_the_spacing_is_in_seconds():
    """A 120 s model's result is as awaited as a 20 s one's: the same 1.2 s between polls past the median."""
    for typical in (20, 45, 120):
        s = Schedule(typical=typical)
        assert s.first_poll_age() == pytest.approx(typical * 0.67, rel=0.01)
        ages = poll_ages(s, typical * 1.4)
        past_median = [b - a for a, b in zip(ages, ages[1:]) if typical * 1.12 <= a < typical * 1.4]
        assert past_median and all(step == pytest.approx(1.2) for step in past_median)


def test_a_scaled_down_schedule_is_the_same_schedule_faster():
    life, fast = Schedule(typical=90), Schedule(typical=9, time_scale=10)
    for age in (1, 40, 60, 85, 95, 100, 150, 300):
        assert life.delay(age) == pytest.approx(fast.delay(age / 10) * 10)


def test_time_scale():
    assert Schedule.for_model("veo2", time_scale=15).typical == pytest.approx(3)
    assert Schedule.for_model("not-in-catalog").typical == 60


def test_error_backoff_grows_and_honours_retry_after():
    waits = [error_backoff(n, base=2, cap=60) for n in range(1, 10)]
    assert 1.5 <= waits[0] <= 2 and all(w <= 60 for w in waits) and waits[-1] >= 45
    assert error_backoff(1, base=2, cap=60, retry_after=30) >= 30


def test_late_polls_do_not_push_later_polls_back():
    """Each poll runs a little late (fetch latency, a busy machine); the next still lands on the schedule's grid."""
    s = Schedule(typical=45)
    window_end = s.age_at(s.tail_z)  # past it the polls back off anyway
    exact, late = [], []
    age = 0.0
    while age < window_end:
        age += s.delay(age)
        exact.append(age)
    age = 0.0
    while age < window_end:
        age += s.delay(age) + 0.05  # every poll 50 ms late
        late.append(age)
    assert len(late) == len(exact)
    assert all(abs(a - b) <= 0.05 + 1e-9 for a, b in zip(exact, late))
