"""Run times learned from the history: the poll schedule and the ETA follow what this history has seen."""

from __future__ import annotations

import sqlite3
import statistics

import pytest

from tests.helpers import wait_until
from tests.polling import make_poller, submit
from videogen.api import Answer, Status
from videogen.polling import MIN_SAMPLES, Poller, RunTimes, Schedule, learn
from videogen.polling import _runtimes as runtimes
from videogen.simulator import JobScript


def finished(store, model: str, duration, seconds: list[float]) -> None:
    """Completed generations of `model` that took `seconds` each, from create to completed."""
    for i, took in enumerate(seconds):
        gen_id = f"{model}-{duration}-{i}-{len(store.records())}"
        request = {"model": model, "prompt": "p"} | ({} if duration is None else {"duration": duration})
        store.add(Answer(gen_id, Status.QUEUED), request=request, server="s")
        store.apply(Answer(gen_id, Status.COMPLETED, video_url="https://cdn.example/v.mp4"))
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE generations SET created_at = 1000, completed_at = ? WHERE id = ?", (1000 + took, gen_id))


def test_fewer_than_five_runs_teach_nothing():
    assert learn([20, 21, 22, 23]) is None
    estimate = learn([20, 21, 22, 23, 24])
    assert estimate.learned and estimate.samples == MIN_SAMPLES and estimate.typical == 22


def test_the_spread_follows_the_runs_within_bounds_and_ignores_one_outlier():
    steady = learn([100, 101, 99, 100, 100, 102] * 10)
    few_steady = learn([100, 101, 99, 100, 100, 102])
    wide = learn([50, 80, 100, 130, 200, 60, 150] * 10)
    assert steady.spread < few_steady.spread < wide.spread <= runtimes.MAX_SPREAD
    assert steady.spread < 0.1  # sixty near-identical runs: trusted
    assert few_steady.spread > 0.15  # six of them: not yet
    with_outlier = learn([100, 101, 99, 100, 100, 102] * 10 + [3000])
    assert with_outlier.typical == pytest.approx(100, abs=1) and with_outlier.spread < 0.1


def test_estimates_are_by_model_and_duration_with_the_catalog_before(store):
    finished(store, "veo2", 5, [20, 22, 21, 19, 23])
    finished(store, "veo2", 8, [40, 41])
    times = RunTimes(store)
    learned = times.estimate("veo2", {"duration": 5})
    assert learned.learned and learned.typical == 21 and learned.samples == 5
    # Two runs at 8 s are not enough: the catalog's figure, flagged as a guess.
    guess = times.estimate("veo2", {"duration": 8})
    assert guess.is_guess and guess.typical == Schedule.for_model("veo2").typical
    assert times.estimate("openai/sora-2-t2v", {"duration": 4}).is_guess
    assert times.schedule("veo2", {"duration": 5}).typical == 21


def test_the_schedule_moves_to_the_learned_figure_when_enough_runs_finish(store):
    times = RunTimes(store)
    assert times.estimate("google/veo-3.1-t2v-fast", {"duration": 8}).is_guess
    finished(store, "google/veo-3.1-t2v-fast", 8, [118, 120, 122, 119, 121])
    times.refresh()
    assert times.schedule("google/veo-3.1-t2v-fast", {"duration": 8}).typical == 120


def test_a_duration_sent_as_text_counts_with_the_same_number(store):
    finished(store, "kling-video/v1/standard/text-to-video", "5", [30, 31, 32])
    finished(store, "kling-video/v1/standard/text-to-video", 5, [30, 31])
    assert RunTimes(store).estimate("kling-video/v1/standard/text-to-video", {"duration": 5}).learned


def test_the_poller_plans_with_the_learned_schedule(store, client):
    finished(store, "veo2", 5, [8, 8, 9, 8, 8])
    poller = Poller(store, client, server="s", schedule_for=lambda model: Schedule(typical=45), run_times=RunTimes(store))
    store.add(Answer("new", Status.QUEUED), request={"model": "veo2", "prompt": "p", "duration": 5}, server="s")
    record = store.get("new")
    assert poller.poll_plan(record).schedule.typical == 8 and not poller.poll_plan(record).estimate.is_guess
    other = store.add(Answer("other", Status.QUEUED), request={"model": "veo2", "prompt": "p", "duration": 7}, server="s")
    assert poller.poll_plan(other).schedule.typical == 45 and poller.poll_plan(other).estimate.is_guess


# -- a generation that waits in the server's queue ---------------------------------------


def test_the_store_keeps_when_polls_saw_it_queued_and_first_saw_it_generating(store):
    store.add(Answer("g", Status.QUEUED), request={"model": "veo2", "prompt": "p"}, server="s")
    assert store.get("g").queued_until is None  # the create's own answer is not a poll
    store.apply(Answer("g", Status.QUEUED))
    seen_queued = store.get("g").queued_until
    assert seen_queued is not None and store.get("g").start_window is None
    store.apply(Answer("g", Status.GENERATING))
    first_generating = store.get("g").started_at
    store.apply(Answer("g", Status.GENERATING))
    assert store.get("g").started_at == first_generating  # the first sighting stays
    assert store.get("g").start_window == (seen_queued, first_generating)


def _record(store, gen_id, *, queued_until=None, started_at=None, status=Status.QUEUED):
    store.add(Answer(gen_id, Status.QUEUED), request={"model": "veo2", "prompt": "p", "duration": 5}, server="s")
    with sqlite3.connect(store.path) as db:
        db.execute(
            "UPDATE generations SET created_at = 1000, queued_until = ?, started_at = ?, status = ? WHERE id = ?",
            (queued_until, started_at, status.value, gen_id),
        )
    return store.get(gen_id)


def test_the_plan_waits_while_queued_and_starts_again_from_the_run(store):
    times = RunTimes(store, fallback=lambda model: Schedule(typical=45))
    fresh = times.poll_plan(_record(store, "fresh"))
    assert fresh.origin == 1000 and not fresh.waiting and fresh.first_due() == pytest.approx(1000 + 45 * 0.67, abs=0.5)

    waiting = times.poll_plan(_record(store, "waiting", queued_until=1060))
    # Still queued at a poll a minute in: it has not started, so the whole run is ahead, polled every 9 s.
    assert waiting.waiting and waiting.remaining(now=1061) == 45 and waiting.delay(now=1061) == pytest.approx(9)

    running = times.poll_plan(_record(store, "running", queued_until=1060, started_at=1064, status=Status.GENERATING))
    assert not running.waiting and running.origin == 1062  # between the last queued sighting and the first generating
    assert running.remaining(now=1070) == pytest.approx(1062 + 45 - 1070)
    # Dense past the run's typical end, not the create's.
    late = 1062 + 60 + running.delay(now=1062 + 60)
    assert running.delay(now=late) == pytest.approx(1.2)


def test_the_run_time_is_learned_from_generations_whose_start_was_seen(store):
    for i in range(5):
        _record(store, f"r{i}", queued_until=1050, started_at=1052, status=Status.GENERATING)
        store.apply(Answer(f"r{i}", Status.COMPLETED, video_url="https://cdn.example/v.mp4"))
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE generations SET completed_at = ? WHERE id = ?", (1051 + 20 + i, f"r{i}"))
    times = RunTimes(store, fallback=lambda model: Schedule(typical=45))
    running = times.poll_plan(_record(store, "now", queued_until=2000, started_at=2002, status=Status.GENERATING))
    assert running.schedule.typical == 22 and running.estimate.learned  # 20..24 s from the start of the run
    assert times.estimate("veo2", {"duration": 5}).typical == 73  # create to finish: the queue included


def test_a_long_queue_is_polled_sparsely_until_the_run_begins(store, client, sim):
    """Queued for 3 s of a scaled 45 s life (a 225 s queue): a poll every 9 s of life, then the run's schedule."""
    queued, run = 3.0, 0.6
    sim.faults.script(JobScript(queued_seconds=queued, seconds=run))
    poller = make_poller(store, client).start()
    try:
        gen_id = submit(client, store)
        poller.wake()
        assert wait_until(lambda: store.get(gen_id).status is Status.COMPLETED, timeout=30)
    finally:
        poller.stop()
    job = sim.jobs[gen_id]
    fetches = [r.at for r in sim.requests if r.endpoint == "fetch" and r.generation_id == gen_id]
    while_queued = [t for t in fetches if t < job.created_at + queued]
    step = 9 / 75  # a fifth of the run; Schedule.scaled(0.6): 45 s of life is 0.6 s here
    # Blind to the queue, the create's schedule polls densely around 45 s of life, then backs off: about 42
    # fetches in this queue. Waiting on the start, a fetch every `step` (a busy machine makes fewer, never more).
    assert queued / step / 4 <= len(while_queued) <= queued / step + 3
    record = store.get(gen_id)
    assert record.queued_until <= job.created_at + queued <= record.started_at


@pytest.mark.parametrize("queued", [60, 120, 225, 600])
def test_planning_again_at_the_start_finds_a_queued_job_sooner_and_no_dearer(queued):
    """Virtual time (bench/learning.py's replay of the poller's plans): a 45 s model behind a queue."""
    from bench.learning import replay_queued

    # Runs of 40-50 s: one run alone would measure where it happens to fall between two polls.
    runs = [40 + i / 2 for i in range(21)]
    replanned = [replay_queued(queued, run, 45) for run in runs]
    blind = [replay_queued(queued, run, 45, replan=False) for run in runs]
    assert statistics.median(d for d, _ in replanned) < 1.5 < statistics.median(d for d, _ in blind)
    assert sum(f for _, f in replanned) <= sum(f for _, f in blind) + 3 * len(runs)
