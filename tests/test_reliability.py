"""Fault scenarios at the engine level: nothing lost, nothing created twice. (Browser scenarios: tests/e2e.)"""

from __future__ import annotations

import time

import pytest

from tests.helpers import TEST_KEY, fast_schedule, wait_until
from videogen.api import Client, Status
from videogen.polling import LOST_MESSAGE, Poller
from videogen.simulator import Fault, JobScript, Simulator
from videogen.store import Store

SERVER = "sim"
BODY = {"model": "veo2", "prompt": "reliability", "duration": 5, "aspect_ratio": "16:9"}


def start_poller(store, client, **kw):
    options = dict(server=SERVER, schedule_for=fast_schedule, backoff_base=0.2, backoff_cap=1.0, idle_interval=0.1, not_found_window=0.5)
    return Poller(store, client, **{**options, **kw}).start()


def submit(client, store, n=1, body=BODY):
    ids = []
    for _ in range(n):
        generation = client.create(body)
        store.add(generation, request=body, server=SERVER)
        ids.append(generation.id)
    return ids


def finished(store, ids):
    return all(r.status.is_final and not r.needs_download for r in store.find(ids))


def fetch_log(sim, gen_id):
    return [r for r in sim.requests if r.endpoint == "fetch" and r.generation_id == gen_id]


@pytest.mark.parametrize("retry_after", [2, None], ids=["with-retry-after", "without"])  # whole seconds, as RFC 9110 says
def test_a_burst_of_429s_slows_polling_and_everything_completes(sim, store, retry_after):
    client = Client(TEST_KEY, base_url=sim.url, retries=0, max_inline_wait=0.2)
    ids = submit(client, store, 5)
    sim.faults.inject("fetch", Fault.http(429, retry_after=retry_after), times=12)
    poller = start_poller(store, client)
    try:
        assert wait_until(lambda: finished(store, ids), timeout=60)
    finally:
        poller.stop()
    assert all(r.status is Status.COMPLETED and r.video_path for r in store.find(ids))
    # After every 429, the next poll of that generation waited as asked (or backed off, without a header).
    least_wait = retry_after if retry_after else 0.2 * 0.75
    for gen_id in ids:
        log = fetch_log(sim, gen_id)
        for refused, following in zip(log, log[1:]):
            if refused.status == 429:
                assert following.at - refused.at >= least_wait - 0.01, (gen_id, following.at - refused.at)
    assert sum(r.status == 429 for r in sim.requests) == 12


def test_the_simulator_restarts_and_forgets_a_generation(rendered_videos, tmp_path):
    """A server restart that loses state: once its 404s outlast the window, the generation ends as lost,
    with a message, and polling stops."""
    store = Store(tmp_path / "data")
    first = Simulator(job_seconds=30, videos_dir=rendered_videos).start()
    client = Client(TEST_KEY, base_url=first.url)
    (gen_id,) = submit(client, store)
    port = first.port
    first.stop()
    second = Simulator(port=port, job_seconds=30, videos_dir=rendered_videos).start()
    poller = start_poller(store, client)
    try:
        assert wait_until(lambda: store.get(gen_id).status is Status.LOST, timeout=30)
        polls = second.count("fetch", generation_id=gen_id)
        time.sleep(1.5)
        assert second.count("fetch", generation_id=gen_id) == polls
    finally:
        poller.stop()
        second.stop()
    record = store.get(gen_id)
    assert record.error == LOST_MESSAGE and record.completed_at is not None
    assert record.completed_at - record.not_found_since >= poller.lost_window(record)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_pauses_polling_once_for_everyone(sim, store, status):
    """A 401, or a 403 that says the account is out of credits (any other 403 is one request's: test_api_practice)."""
    client = Client(TEST_KEY, base_url=sim.url)
    ids = submit(client, store, 8)
    if status == 401:
        sim.api_keys = {"not-the-test-key"}
    else:
        sim.faults.inject("fetch", Fault.out_of_credits(), times=1000)
    poller = start_poller(store, client, auth_pause=60)
    try:
        assert wait_until(lambda: poller.auth_problem is not None and poller.auth_problem.status == status)
        time.sleep(0.3)
        settled = sim.count("fetch")
        time.sleep(2.0)
        assert sim.count("fetch") == settled <= len(ids)
        assert all(r.status.is_pending for r in store.find(ids))  # nothing given up on
    finally:
        poller.stop()


def test_polling_resumes_when_the_key_works_again(sim, store):
    client = Client(TEST_KEY, base_url=sim.url)
    ids = submit(client, store, 3)
    sim.faults.inject("fetch", Fault.http(401), times=1)
    poller = start_poller(store, client, auth_pause=1.0)
    try:
        assert wait_until(lambda: finished(store, ids), timeout=30)
        assert poller.auth_problem is None
    finally:
        poller.stop()


@pytest.mark.parametrize(
    "script, words",
    [
        (JobScript(video_url="http://cdn.example.com/v.mp4"), "not https"),
        (JobScript(video_url="javascript:alert(1)"), "not https"),
        (JobScript(video_url="file:///etc/passwd"), "not https"),
    ],
    ids=["http-remote", "javascript", "file"],
)
def test_only_https_or_loopback_video_links_are_fetched(sim, store, script, words):
    client = Client(TEST_KEY, base_url=sim.url)
    sim.faults.script(script)
    (gen_id,) = submit(client, store)
    poller = start_poller(store, client)
    try:
        assert wait_until(lambda: store.get(gen_id).video_error is not None)
    finally:
        poller.stop()
    assert words in store.get(gen_id).video_error
    assert not list(store.videos_dir.iterdir())


def test_a_hostile_generation_id_cannot_write_outside_the_videos_folder(sim, store, tmp_path):
    client = Client(TEST_KEY, base_url=sim.url)
    sim.faults.script(JobScript(id="../../../../escaped/evil:veo2"))
    (gen_id,) = submit(client, store)
    assert gen_id == "../../../../escaped/evil:veo2"
    poller = start_poller(store, client)
    try:
        assert wait_until(lambda: store.get(gen_id).video_path is not None)
    finally:
        poller.stop()
    path = store.get(gen_id).video_path
    assert path.startswith(str(store.videos_dir) + "/") and ".." not in path
    assert not (tmp_path / "escaped").exists() and not (store.data_dir.parent / "escaped").exists()


def test_500_generations_pending_at_once_all_complete(rendered_videos, tmp_path):
    """The load scenario's correctness half; its timing is in `make bench`."""
    with Simulator(job_seconds=1.0, videos_dir=rendered_videos) as sim:
        store = Store(tmp_path / "data")
        client = Client(TEST_KEY, base_url=sim.url, pool_size=64)
        ids = submit(client, store, 500)
        poller = start_poller(store, client)
        try:
            assert wait_until(lambda: finished(store, ids), timeout=120, interval=0.5)
        finally:
            poller.stop()
        records = store.find(ids)
        assert len(records) == 500 and all(r.status is Status.COMPLETED and r.video_path for r in records)
        assert sim.count("create") == 500
