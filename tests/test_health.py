"""`python -m videogen.health`: what a supervisor sees, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from videogen import health
from videogen.api import Answer, Status
from videogen.store import Store
from videogen.store import _database as database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    return {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url}


def pend(env: dict) -> Store:
    store = Store(env["PLAYGROUND_DATA_DIR"], database_url=env["DATABASE_URL"])
    store.add(Answer("g1", Status.QUEUED, "queued"), request={"model": "veo2", "prompt": "p"}, server="sim")
    return store


def test_nothing_pending_is_healthy(env):
    result = health.report(env)
    assert result["healthy"] and result["database"]["ok"] and result["pending"] == 0
    assert result["database"]["schema"] > 0


def test_pending_work_needs_a_poller_that_swept_lately(env):
    store = pend(env)
    result = health.report(env, now=1000.0)
    assert not result["healthy"] and "1 pending" in result["problem"]
    store.heartbeat("host:1:abc", "sim", 990.0)
    result = health.report(env, now=1000.0)
    assert result["healthy"] and result["pollers"] == [{"owner": "host:1:abc", "server": "sim", "last_sweep_seconds_ago": 10.0}]
    assert not health.report(env, now=990.0 + health.STALE_SECONDS + 1)["healthy"]
    store.close()


def test_an_unreachable_database_is_reported_without_its_password(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "CONNECT_TIMEOUT_S", 1.0)
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://app:s3cret@127.0.0.1:9/videos"}
    result = health.report(env)
    assert not result["healthy"] and not result["database"]["ok"]
    assert "s3cret" not in json.dumps(result) and "did not answer" in result["database"]["error"]


def test_the_command_prints_json_and_exits_by_health(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PLAYGROUND_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "videogen.health"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout)["healthy"]
    pend({"PLAYGROUND_DATA_DIR": env["PLAYGROUND_DATA_DIR"], "DATABASE_URL": ""}).close()
    done = subprocess.run([sys.executable, "-m", "videogen.health"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and json.loads(done.stdout)["pending"] == 1
