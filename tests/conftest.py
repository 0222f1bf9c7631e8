"""Shared fixtures: a simulator on loopback, a client for it, a fresh store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import FAST_JOB_SECONDS, TEST_KEY
from videogen.api import Client
from videogen.connection import connect
from videogen.simulator import Simulator
from videogen.store import Store

APP = Path(__file__).resolve().parent.parent / "app.py"


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
def conn(sim, tmp_path):
    """A connection in API mode to the test simulator, as the app opens one."""
    connection = connect(TEST_KEY, base_url=sim.url, data_dir=tmp_path / "data", typical_seconds=FAST_JOB_SECONDS)
    yield connection
    connection.close()


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
