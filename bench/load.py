"""Load: 500 generations pending at once, and the app itself polling them.

The app runs as it would for a user (AppTest on app.py, API mode, pointed at
`python -m videogen.simulator` in its own process), so its own connection and
poller do the work.
500 generations are submitted through that connection and finish over ~20 s.
Meanwhile the Generate page is run again and again, as a person clicking
around would: its run time under load is set beside the same page with
nothing pending (the baseline). The poller keeps up if every generation is
recorded as completed, with its video saved, soon after the last one could
have finished (its creation time plus the job time); that lag is reported,
with the polls it took (the store's poll counts).
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import services

from .common import API_KEY, BODY, ROOT, app_environment, median, percentile, simulator_process
from .report import Row, Section, ratio

APP = ROOT / "app.py"
JOB_SECONDS = 20.0
RUNS_IDLE = 5


def _saved(db_path: Path) -> int:
    """Videos saved so far; a count in SQL, so that watching adds next to nothing to the load."""
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute("SELECT COUNT(*) FROM generations WHERE video_path IS NOT NULL").fetchone()[0]


def _timed_run(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError(f"the app raised: {[e.value for e in at.exception]}")
    return time.perf_counter() - started


def run(quick: bool, work: Path) -> Section:
    n = 100 if quick else 500
    section = Section("load")
    app_env = app_environment(
        PLAYGROUND_DATA_DIR=str(work / "load-data"),
        AIMLAPI_API_KEY=API_KEY,
        AIML_API_KEY=None,
        AIMLAPI_BASE_URL=None,
        PLAYGROUND_TYPICAL_SECONDS=str(JOB_SECONDS),
    )
    with simulator_process(work / "load-simulator", job_seconds=JOB_SECONDS) as url, app_env:
        os.environ["AIMLAPI_BASE_URL"] = url  # known only once the simulator runs; app_env restores it
        at = AppTest.from_file(str(APP), default_timeout=120)
        _timed_run(at)  # opens the connection, starts the poller
        idle = [_timed_run(at) for _ in range(RUNS_IDLE)]
        conn = services.connection()
        conn.submit(BODY)  # the simulator renders the clip once; every later job shares it
        started = time.time()
        for _ in range(n - 1):
            conn.submit(BODY)
        submit_s = time.time() - started
        busy: list[float] = []
        deadline = time.time() + JOB_SECONDS * 6
        while time.time() < deadline:
            busy.append(_timed_run(at))
            if _saved(conn.store.path) == n:
                break
            time.sleep(0.25)
        all_saved_at = time.time()
        records = conn.store.records()
    completed = sum(1 for r in records if r.status.value == "completed" and r.video_path)
    last_possible = max(r.created_at for r in records) + JOB_SECONDS
    lag = all_saved_at - last_possible
    polls = sum(r.poll_count for r in records)
    section.details = {
        "generations": n,
        "job_seconds": JOB_SECONDS,
        "submit_s": submit_s,
        "idle_runs_s": idle,
        "busy_runs_s": busy,
        "completed_with_video": completed,
        "polls": polls,
        "lag_after_last_finish_s": lag,
    }
    idle_s, busy_s = median(idle), median(busy)
    section.rows += [
        Row(
            "load",
            f"{n} pending: completed with video saved",
            completed,
            "",
            n,
            "submitted",
            ratio(completed, n),
            "share",
            f"all {n}",
            completed == n,
        ),
        Row("load", "all saved, after the last could finish", lag, "s", JOB_SECONDS, "job time", ratio(lag, JOB_SECONDS), "×job"),
        Row("load", "polls per generation", polls / n, ""),
        Row(
            "load",
            f"Generate page run, {n} pending (median)",
            busy_s * 1000,
            "ms",
            idle_s * 1000,
            "nothing pending",
            ratio(busy_s, idle_s),
            "×idle",
        ),
        Row(
            "load",
            f"Generate page run, {n} pending (p95)",
            percentile(busy, 95) * 1000,
            "ms",
            idle_s * 1000,
            "nothing pending",
            ratio(percentile(busy, 95), idle_s),
            "×idle",
        ),
    ]
    return section
