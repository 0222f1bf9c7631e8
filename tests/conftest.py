"""Shared fixtures: a simulator on loopback, a client for it, a fresh store."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from videogen.client import Client
from videogen.schedule import Schedule
from videogen.simulator import Simulator
from videogen.store import Store

TEST_KEY = "sk-test-0123456789abcdef"
FAST_JOB_SECONDS = 0.6


@pytest.fixture(scope="session")
def rendered_videos(tmp_path_factory):
    """Clips rendered once per session: a render depends only on the request."""
    return tmp_path_factory.mktemp("rendered")


@pytest.fixture
def sim(rendered_videos):
    with Simulator(job_seconds=FAST_JOB_SECONDS, videos_dir=rendered_videos) as simulator:
        yield simulator


@pytest.fixture
def client(sim):
    c = Client(TEST_KEY, base_url=sim.url, read_timeout=2.0)
    yield c
    c.close()


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "data")


def fast_schedule(model_id: str) -> Schedule:
    """The real schedule's shape, for jobs that take well under a second."""
    return Schedule(typical=FAST_JOB_SECONDS)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds; tests assert on the result, never on elapsed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
