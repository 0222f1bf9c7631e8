"""The poller against the simulator: completion, restarts, lost ids, Retry-After, downloads, auth."""

from __future__ import annotations

import time

import pytest

from tests.helpers import TEST_KEY, fast_schedule, wait_until
from tests.polling import BODY, make_poller, submit
from videogen.api import Client, Status
from videogen.polling import LOST_MESSAGE, NO_LINK_MESSAGE
from videogen.recipe import NoRecipeError, read_recipe
from videogen.simulator import Fault, JobScript
from videogen.simulator.render import probe
from videogen.store import Store


def all_done(store):
    return all(r.status.is_final and not r.needs_download for r in store.records())


@pytest.fixture
def poller(store, client):
    p = make_poller(store, client).start()
    yield p
    p.stop()


def test_many_generations_complete_and_videos_are_saved(sim, client, store, poller):
    ids = [submit(client, store) for _ in range(25)]
    poller.wake()
    assert wait_until(lambda: all_done(store), timeout=30)
    for record in store.find(ids):
        assert record.status is Status.COMPLETED
        assert record.video_path and record.video_path.startswith(str(store.videos_dir))
        assert record.poll_count >= 1 and record.credits_used == 3_900_000
    info = probe(store.find(ids[:1])[0].video_path)
    assert (info.width, info.height) == (1280, 720) and info.duration == pytest.approx(5, abs=0.1)


def test_a_saved_video_carries_its_recipe_unless_turned_off(sim, client, store):
    for recipes in (True, False):
        poller = make_poller(store, client, recipes=recipes).start()
        try:
            gen_id = submit(client, store)
            poller.wake()
            assert wait_until(lambda gen_id=gen_id: store.get(gen_id).video_path is not None, timeout=30)
        finally:
            poller.stop()
        record = store.get(gen_id)
        if recipes:
            recipe = read_recipe(record.video_path)
            assert (recipe.generation_id, recipe.model, dict(recipe.body)) == (gen_id, "veo2", record.request)
        else:
            with pytest.raises(NoRecipeError):
                read_recipe(record.video_path)


def test_polls_are_sparse_before_a_job_can_be_done(sim, client, store, poller):
    gen_id = submit(client, store)
    assert wait_until(lambda: all_done(store))
    first_fetch = next(r.at for r in sim.requests if r.endpoint == "fetch" and r.generation_id == gen_id)
    created = store.get(gen_id).created_at
    assert first_fetch - created >= fast_schedule("veo2").first_poll_age() - 0.05


def test_a_restart_mid_generation_resumes(sim, client, tmp_path):
    data = tmp_path / "data"
    first_store = Store(data)
    sim.job_seconds = 2.0
    ids = [submit(client, first_store) for _ in range(5)]
    first = make_poller(first_store, client).start()
    assert wait_until(lambda: sum(r.poll_count for r in first_store.records()) >= 1)
    first.stop()
    assert all(r.status.is_pending for r in first_store.records())

    # A new process: a new store object on the same file, a new client and poller.
    second_store = Store(data)
    second = make_poller(second_store, Client(TEST_KEY, base_url=sim.url)).start()
    try:
        assert wait_until(lambda: all_done(second_store), timeout=30)
    finally:
        second.stop()
    assert all(r.status is Status.COMPLETED and r.video_path for r in second_store.find(ids))


def test_404s_that_last_the_window_mark_the_generation_lost_and_polling_stops(sim, client, store, poller):
    gen_id = submit(client, store)
    sim.forget(gen_id)
    assert wait_until(lambda: store.get(gen_id).status is Status.LOST)
    record = store.get(gen_id)
    assert record.error == LOST_MESSAGE
    assert record.completed_at - record.not_found_since >= poller.lost_window(record)
    count = sim.count("fetch", generation_id=gen_id)
    time.sleep(1.0)
    assert sim.count("fetch", generation_id=gen_id) == count


def test_one_404_is_not_enough_to_give_up(sim, client, store):
    """Nor a few in a row: only 404s lasting the window count (a count of 3 would have given up here)."""
    poller = make_poller(store, client, not_found_window=60).start()
    try:
        gen_id = submit(client, store)
        sim.faults.inject("fetch", Fault.http(404), times=4)
        assert wait_until(lambda: all_done(store))
    finally:
        poller.stop()
    assert store.get(gen_id).status is Status.COMPLETED
    assert sum(r.status == 404 for r in sim.requests if r.generation_id == gen_id) == 4
    assert store.get(gen_id).not_found_since is None  # the fetch that found it again cleared the run of 404s


def test_retry_after_is_respected(sim, store):
    # The client hands waits over 0.2 s back to the poller, which must not poll again before then.
    client = Client(TEST_KEY, base_url=sim.url, max_inline_wait=0.2, retries=0)
    gen_id = submit(client, store)
    sim.faults.inject("fetch", Fault.http(429, retry_after=2), times=3)
    poller = make_poller(store, client).start()
    try:
        assert wait_until(lambda: all_done(store), timeout=30)
    finally:
        poller.stop()
    fetches = [r for r in sim.requests if r.endpoint == "fetch" and r.generation_id == gen_id]
    assert [r.status for r in fetches[:3]] == [429, 429, 429]
    gaps = [b.at - a.at for a, b in zip(fetches, fetches[1:4])]
    assert all(gap >= 2.0 for gap in gaps), gaps
    assert store.get(gen_id).status is Status.COMPLETED


@pytest.mark.parametrize(
    "fault",
    [Fault.http(503), Fault.http(500), Fault.dropped(), Fault.malformed(), Fault.slow(3), Fault.http(429)],
    ids=["503", "500", "drop", "malformed", "read-timeout", "429-no-header"],
)
def test_transient_fetch_faults_leave_it_pending_then_complete(sim, store, fault):
    client = Client(TEST_KEY, base_url=sim.url, read_timeout=1.0, retries=0)
    ids = [submit(client, store) for _ in range(3)]
    sim.faults.inject("fetch", fault, times=6)
    poller = make_poller(store, client).start()
    try:
        assert wait_until(lambda: sim.faults.pending("fetch") == 0, timeout=30)
        assert all(r.status.is_pending or r.status is Status.COMPLETED for r in store.records())
        assert wait_until(lambda: all_done(store), timeout=30)
    finally:
        poller.stop()
    assert all(r.status is Status.COMPLETED and r.video_path for r in store.find(ids))


def test_a_failed_generation_keeps_the_servers_message(sim, client, store, poller):
    sim.faults.script(JobScript(error="The prompt was refused by the safety filter."))
    gen_id = submit(client, store)
    assert wait_until(lambda: all_done(store))
    record = store.get(gen_id)
    assert record.status is Status.FAILED and "safety filter" in record.error


def test_completed_without_a_link(sim, client, store, poller):
    sim.faults.script(JobScript(video_url=False))
    gen_id = submit(client, store)
    assert wait_until(lambda: store.get(gen_id).video_error is not None)
    assert store.get(gen_id).video_error == NO_LINK_MESSAGE


@pytest.mark.parametrize("fault, words", [(Fault.http(404), "gone"), (Fault.html(), "text/html")], ids=["404", "html"])
def test_bad_video_links_end_with_a_clear_error(sim, client, store, poller, fault, words):
    sim.faults.inject("video", fault, times=10)
    gen_id = submit(client, store)
    assert wait_until(lambda: store.get(gen_id).video_error is not None)
    record = store.get(gen_id)
    assert words in record.video_error and record.video_path is None
    assert not list(store.videos_dir.glob("*.mp4"))


def test_a_transient_download_failure_is_retried(sim, client, store, poller):
    sim.faults.inject("video", Fault.http(503), times=2)
    gen_id = submit(client, store)
    assert wait_until(lambda: store.get(gen_id).video_path is not None)
    assert sim.count("video") == 3


def test_a_refused_key_pauses_polling_instead_of_a_storm(sim, client, store):
    ids = [submit(client, store) for _ in range(10)]
    sim.api_keys = {"another-key-entirely"}
    poller = make_poller(store, client, auth_pause=30).start()
    try:
        assert wait_until(lambda: poller.auth_problem is not None)
        time.sleep(0.3)  # polls already in flight land
        settled = sim.count("fetch")
        assert settled <= len(ids)  # at most one refused poll per generation...
        time.sleep(1.5)
        assert sim.count("fetch") == settled  # ...then silence until the pause ends, not a retry loop
        assert all(r.status.is_pending for r in store.find(ids))
    finally:
        poller.stop()


def test_only_its_own_servers_generations_are_polled(sim, client, store, poller):
    from videogen.api import Answer

    store.add(Answer("real-api-id:veo2", Status.QUEUED), request=BODY, server="https://api.aimlapi.com")
    gen_id = submit(client, store)
    assert wait_until(lambda: store.get(gen_id).status is Status.COMPLETED)
    assert sim.count("fetch", generation_id="real-api-id:veo2") == 0
    assert store.get("real-api-id:veo2").status is Status.QUEUED


def test_stop_is_clean(store, client):
    poller = make_poller(store, client).start()
    assert poller.running
    poller.stop()
    assert not poller.running
