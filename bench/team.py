"""Team deployment: polling through two processes on PostgreSQL, and History on PostgreSQL.

Sweep: 500 generations pending for an hour on the simulator (its own process,
300 ms per fetch, as in the fan-out section), recorded as created an hour ago
so all are due at once. Poller processes (spawned, each with the default 256
workers and a cold connection pool) announce themselves with a heartbeat,
then start together; the clock runs from the start to the moment every row
has been fetched once (read from the database). Two processes on one
PostgreSQL database share the rows through leases; the baseline, in the same
run, is one process on SQLite. Median of REPEATS, each on fresh rows.

History: app.py (AppTest, with a key, so DATABASE_URL applies) on History
with 10,000 finished rows in PostgreSQL, against the same rows in SQLite;
median of RUNS page runs after one untimed run.
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import session
from videogen.api import Answer, Client, Status
from videogen.polling import Poller, Schedule
from videogen.store import Store

from .common import API_KEY, BODY, ROOT, app_environment, fill_history, history_dir, median, sample_clip, timed_run
from .fanout import LATENCY, _serve
from .report import Row, Section, ratio

PENDING = 500
REPEATS = 3
HISTORY_ROWS = 10_000
RUNS = 5
SERVER = "bench-simulator"


def _poller(pipe: Pipe, data_dir: str, database_url: str, sim_url: str) -> None:
    """Child process: one app process's poller, started when told, stopped when told."""
    store = Store(data_dir, database_url=database_url)
    client = Client(API_KEY, base_url=sim_url, pool_size=256)
    poller = Poller(store, client, server=SERVER, schedule_for=lambda model: Schedule(typical=45.0))
    store.heartbeat(poller.owner, SERVER, time.time())  # alive, as a running app process would be
    pipe.send("ready")
    pipe.recv()
    poller.start()
    pipe.recv()
    poller.stop()
    client.close()
    store.close()


def _sweep(ctx, sim_url: str, ids: list[str], data_dir: Path, database_url: str, processes: int) -> float:
    store = Store(data_dir, database_url=database_url)
    long_ago = time.time() - 3600
    for gen_id in ids:
        store.add(Answer(gen_id, Status.QUEUED, "queued"), request=BODY, server=SERVER, created_at=long_ago)
    pipes, children = [], []
    for _ in range(processes):
        pipe, child_end = ctx.Pipe()
        child = ctx.Process(target=_poller, args=(child_end, str(data_dir), database_url, sim_url), daemon=True)
        child.start()
        pipes.append(pipe)
        children.append(child)
    try:
        for pipe in pipes:
            if not pipe.poll(120) or pipe.recv() != "ready":
                raise RuntimeError("a poller process did not start")
        started = time.perf_counter()
        for pipe in pipes:
            pipe.send("go")
        deadline = time.monotonic() + 120
        while True:
            with store.db.connect() as db:
                (polled,) = db.execute("SELECT COUNT(*) FROM generations WHERE poll_count >= 1").fetchone()
            if polled == len(ids):
                elapsed = time.perf_counter() - started
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sweep did not finish: {polled}/{len(ids)} polled")
            time.sleep(0.005)
        with store.db.connect() as db:
            (fetches,) = db.execute("SELECT SUM(poll_count) FROM generations").fetchone()
        if fetches > len(ids) * 1.05:  # each row once (a few may be polled twice as the shares settle)
            raise RuntimeError(f"{fetches} fetches for {len(ids)} rows: the processes polled the same rows")
        return elapsed
    finally:
        for pipe in pipes:
            pipe.send("stop")
        for child in children:
            child.join(30)
        store.close()


def _history_runs(data_dir: Path, database_url: str, runs: int) -> list[float]:
    env = {
        "PLAYGROUND_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "AIMLAPI_API_KEY": API_KEY,
        "AIMLAPI_BASE_URL": "http://127.0.0.1:9",
        "PLAYGROUND_TYPICAL_SECONDS": None,
        "AIML_API_KEY": None,
    }
    with app_environment(**env):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        timed_run(at)
        at.session_state[session.HISTORY_VIEW] = "Table"  # the table: History opens as the Gallery (bench/gallery.py)
        at.switch_page("pages/history.py")
        timed_run(at)
        shown = len(at.dataframe[0].value) if at.dataframe else 0
        if shown != HISTORY_ROWS:
            raise RuntimeError(f"History showed {shown} rows, expected {HISTORY_ROWS}")
        return [timed_run(at) for _ in range(runs)]


def run(quick: bool, work: Path) -> Section:
    from devtools.postgres_server import PostgresServer

    n, repeats, runs = (60, 1, 2) if quick else (PENDING, REPEATS, RUNS)
    section = Section("team")
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that already runs threads
    pipe, child_end = ctx.Pipe()
    simulator = ctx.Process(target=_serve, args=(child_end, n, str(work / "clips"), LATENCY), daemon=True)
    simulator.start()
    with PostgresServer() as postgres:
        try:
            if not pipe.poll(180):
                raise RuntimeError("the simulator process did not start")
            sim_url, ids = pipe.recv()
            one, two = [], []
            for i in range(repeats):
                one.append(_sweep(ctx, sim_url, ids, work / f"team-sqlite-{i}", "", 1))
                two.append(_sweep(ctx, sim_url, ids, work / f"team-pg-{i}", postgres.new_database(), 2))
        finally:
            pipe.send("stop")
            simulator.join(30)

        url = postgres.new_database()
        fill_history(work / "team-history-pg", HISTORY_ROWS, video=sample_clip(work), database_url=url).close()
        on_postgres = _history_runs(work / "team-history-pg", url, runs)
        on_sqlite = _history_runs(history_dir(work, HISTORY_ROWS, work / "team-history-sqlite"), "", runs)

    section.details = {
        "pending": n,
        "repeats": repeats,
        "sweep_one_sqlite_s": one,
        "sweep_two_postgres_s": two,
        "history_rows": HISTORY_ROWS,
        "history_postgres_s": on_postgres,
        "history_sqlite_s": on_sqlite,
    }
    one_s, two_s = median(one), median(two)
    pg_s, lite_s = median(on_postgres), median(on_sqlite)
    section.rows += [
        Row(
            "team",
            f"One sweep over {n} pending, two processes on PostgreSQL",
            two_s,
            "s",
            one_s,
            "one process on SQLite",
            ratio(two_s, one_s),
            "×SQLite",
        ),
        Row(
            "team",
            f"History page run, {HISTORY_ROWS:,} rows on PostgreSQL",
            pg_s,
            "s",
            lite_s,
            "the same on SQLite",
            ratio(pg_s, lite_s),
            "×SQLite",
        ),
    ]
    return section
