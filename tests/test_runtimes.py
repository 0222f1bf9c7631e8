"""Run times learned from the history: the poll schedule and the ETA follow what this history has seen."""

from __future__ import annotations

import sqlite3

import pytest

from videogen import runtimes
from videogen.generation import Generation, Status
from videogen.poller import Poller
from videogen.runtimes import MIN_SAMPLES, RunTimes, learn
from videogen.schedule import Schedule


def finished(store, model: str, duration, seconds: list[float]) -> None:
    """Completed generations of `model` that took `seconds` each, from create to completed."""
    for i, took in enumerate(seconds):
        gen_id = f"{model}-{duration}-{i}-{len(store.records())}"
        request = {"model": model, "prompt": "p"} | ({} if duration is None else {"duration": duration})
        store.add(Generation(gen_id, Status.QUEUED), request=request, server="s")
        store.apply(Generation(gen_id, Status.COMPLETED, video_url="https://cdn.example/v.mp4"))
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
    store.add(Generation("new", Status.QUEUED), request={"model": "veo2", "prompt": "p", "duration": 5}, server="s")
    record = store.get("new")
    assert poller.schedule(record).typical == 8
    other = store.add(Generation("other", Status.QUEUED), request={"model": "veo2", "prompt": "p", "duration": 7}, server="s")
    assert poller.schedule(other).typical == 45
