"""Several app processes on one PostgreSQL: each generation is polled by one of them, and a killed one's move on.

Two `streamlit run` processes share a database and a data directory. 200
generations are pending on the simulator; both take a share, and one process
is killed with SIGKILL partway through. Every generation must still complete, with its video saved
once, and all the fetches together must stay within 1.2× of what one process
alone needs for the same 200 (measured first, in the same test).
"""

from __future__ import annotations

import random
import signal
import time

import pytest

from devtools.app_server import AppServer
from devtools.browser import new_context
from tests.e2e.browser import open_app
from tests.helpers import TEST_KEY, wait_until
from videogen.api import Client, Status
from videogen.connection import account_of
from videogen.polling import LEASE_SECONDS
from videogen.simulator import Simulator
from videogen.store import Store

pytestmark = pytest.mark.e2e

COUNT = 200
TYPICAL_S = 16.0


def job_seconds(body: dict) -> float:
    # Run times spread from 10 to 22 s, carried in a field the clip does not depend on: one render serves all.
    return float(body["negative_prompt"].removeprefix("t"))


def pend(sim: Simulator, url: str, data_dir) -> list[str]:
    """200 generations accepted by the simulator and recorded, as a page would have left them."""
    store = Store(data_dir, database_url=url)
    rng = random.Random(11)
    ids = []
    client = Client(TEST_KEY, base_url=sim.url)
    try:
        for _ in range(COUNT):
            body = {
                "model": "veo2",
                "prompt": "A lantern over a night market",
                "aspect_ratio": "16:9",
                "duration": 5,
                "negative_prompt": f"t{rng.uniform(10, 22):.1f}",
            }
            generation = client.create(body)
            store.add(generation, request=body, server=sim.url, account=account_of(TEST_KEY))
            ids.append(generation.id)
    finally:
        client.close()
        store.close()
    return ids


def app(sim: Simulator, url: str, data_dir) -> AppServer:
    env = {"AIMLAPI_API_KEY": TEST_KEY, "AIMLAPI_BASE_URL": sim.url, "DATABASE_URL": url, "PLAYGROUND_TYPICAL_SECONDS": str(TYPICAL_S)}
    return AppServer(env, data_dir).start()


def all_saved(store: Store, ids: list[str]) -> bool:
    records = store.find(ids)
    return len(records) == COUNT and all(r.status is Status.COMPLETED and r.video_path for r in records)


def test_two_processes_share_the_work_and_a_killed_ones_generations_finish(postgres, rendered_videos, browser, tmp_path):
    with Simulator(job_seconds=job_seconds, videos_dir=rendered_videos) as sim:
        # One process alone: the baseline.
        # The processes are up and polling before the 200 are made: the jobs' clocks start at their
        # create, and a busy machine can take longer to start two apps than the first jobs take to run.
        url = postgres.new_database()
        one = app(sim, url, tmp_path / "one")
        page = new_context(browser).new_page()
        try:
            open_app(page, one.url)  # the first session starts the process's poller
            ids = pend(sim, url, tmp_path / "one")
            store = Store(tmp_path / "one", database_url=url)
            assert wait_until(lambda: all_saved(store, ids), timeout=120)
            store.close()
        finally:
            one.stop()
        alone = sim.count("fetch")

        # Two processes on a new database; the first is killed before most have finished.
        url = postgres.new_database()
        sim.requests.clear()
        shared = tmp_path / "team"
        first, second = app(sim, url, shared), app(sim, url, shared)
        try:
            open_app(page, first.url)
            open_app(page, second.url)
            ids = pend(sim, url, shared)
            store = Store(shared, database_url=url)

            def pids_holding() -> set[str]:
                return {r.lease_owner.split(":")[1] for r in store.find(ids) if r.lease_owner and not r.video_path}

            # Both take a share of the work while both run.
            assert wait_until(lambda: pids_holding() == {str(first.process.pid), str(second.process.pid)}, timeout=30)
            assert wait_until(lambda: sum(r.video_path is not None for r in store.find(ids)) >= COUNT // 10, timeout=60)
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=10)
            killed_at = time.time()
            at_kill = store.find(ids)
            saved_at_kill = sum(r.video_path is not None for r in at_kill)
            # Downloads the killed process may have had under way: finished on the server, held by it, not saved.
            cut_short = sum(
                r.status is Status.COMPLETED and not r.video_path and (r.lease_owner or "").split(":")[1:2] == [str(first.process.pid)]
                for r in at_kill
            )
            assert saved_at_kill < COUNT, "the kill came too late to test anything"
            assert wait_until(lambda: all_saved(store, ids), timeout=LEASE_SECONDS + 90)
            records = store.find(ids)
        finally:
            page.context.close()
            first.stop(kill=True)
            second.stop()
        together = sim.count("fetch")
        videos = list((shared / "videos").glob("*.mp4"))
        holders = {r.lease_owner.split(":")[1] for r in records if r.lease_owner}

    print(
        f"fetches: one process {alone}, two with a kill {together} ({together / alone:.2f}×); "
        f"{saved_at_kill} saved at the kill, {cut_short} being saved; {sim.count('video')} video downloads; "
        f"done {time.time() - killed_at:.0f} s after"
    )
    assert len(videos) == COUNT and len({r.video_path for r in records}) == COUNT  # one file per generation
    # Each download the kill cut short may be made again by the survivor; nothing else is fetched twice.
    assert sim.count("video") <= COUNT + cut_short, (sim.count("video"), cut_short)
    assert str(second.process.pid) in holders  # the survivor finished what the killed one held
    assert together <= 1.2 * alone
