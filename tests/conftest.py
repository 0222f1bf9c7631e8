"""Shared fixtures: a simulator on loopback, a client for it, a fresh store."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from videogen.api import Client
from videogen.polling import Schedule
from videogen.simulator import Simulator
from videogen.store import Store

TEST_KEY = "sk-test-0123456789abcdef"
APP = Path(__file__).resolve().parent.parent / "app.py"
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


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the session (Debian's package; `make test` installs it)."""
    from devtools.postgres_server import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres):
    """A fresh, empty database on it."""
    return postgres.new_database()


def fast_schedule(model_id: str) -> Schedule:
    """The real schedule's shape, for jobs that take well under a second."""
    return Schedule.scaled(FAST_JOB_SECONDS)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds; tests assert on the result, never on elapsed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def app(sim, data_dir, monkeypatch):
    """The app (AppTest) in API mode against the test simulator, configured as a user would: by environment."""
    from streamlit.testing.v1 import AppTest

    from components import services

    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(data_dir))
    monkeypatch.setenv("AIMLAPI_API_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    monkeypatch.setenv("PLAYGROUND_TYPICAL_SECONDS", str(FAST_JOB_SECONDS))
    at = AppTest.from_file(str(APP), default_timeout=30)
    yield at
    services.connections().close_all()
