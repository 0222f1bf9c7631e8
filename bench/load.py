"""Load: 500 generations pending at once, and the app itself polling them.

The app runs as it would for a user (AppTest on app.py, API mode, pointed at a
simulator in a child process), so its own connection and poller do the work.
500 generations are submitted through that connection and finish over ~20 s.
Meanwhile the Generate page is run again and again, as a person clicking
around would: its run time under load is set beside the same page with
nothing pending (the baseline). The poller keeps up if every generation is
recorded as completed, with its video saved, soon after the simulator finished
the last one; that lag is reported, with the fetches it took.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from contextlib import contextmanager
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from components import services
from videogen.simulator import Simulator

from .common import API_KEY, BODY, ROOT, median, percentile
from .report import Row, Section, ratio

APP = ROOT / "app.py"
JOB_SECONDS = 20.0
RUNS_IDLE = 5


def _serve(pipe: Pipe, videos_dir: str) -> None:
    """Child process: a simulator; reports its URL, then answers questions about its jobs until told to stop."""
    with Simulator(job_seconds=JOB_SECONDS, videos_dir=videos_dir) as sim:
        pipe.send(sim.url)
        while (question := pipe.recv()) != "stop":
            if question == "finished":
                done = [j.completed_at() for j in sim.jobs.values()]
                pipe.send((len(done), max((t for t in done if t), default=None), sim.count("fetch"), sim.count("video")))


@contextmanager
def _app_env(data_dir: Path, url: str):
    names = ("PLAYGROUND_DATA_DIR", "AIMLAPI_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS", "AIML_API_KEY")
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(PLAYGROUND_DATA_DIR=str(data_dir), AIMLAPI_API_KEY=API_KEY, AIMLAPI_BASE_URL=url,
                      PLAYGROUND_TYPICAL_SECONDS=str(JOB_SECONDS))
    os.environ.pop("AIML_API_KEY", None)
    try:
        yield
    finally:
        services.connections().close_all()
        st.cache_resource.clear()
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def _timed_run(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError(f"the app raised: {[e.value for e in at.exception]}")
    return time.perf_counter() - started


def run(quick: bool, work: Path) -> Section:
    n = 100 if quick else 500
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child, str(work / "load-videos")), daemon=True)
    server.start()
    url = parent.recv()
    section = Section("load")
    try:
        with _app_env(work / "load-data", url):
            at = AppTest.from_file(str(APP), default_timeout=120)
            _timed_run(at)  # opens the connection, starts the poller
            idle = [_timed_run(at) for _ in range(RUNS_IDLE)]
            conn = services.connection()
            submitted = time.time()
            for _ in range(n):
                conn.submit(BODY)
            submit_s = time.time() - submitted
            busy: list[float] = []
            store = conn.store
            deadline = time.time() + JOB_SECONDS * 6
            while time.time() < deadline:
                busy.append(_timed_run(at))
                records = store.records()
                if sum(1 for r in records if r.video_path) == n:
                    break
                time.sleep(0.25)
            all_saved_at = time.time()
            records = store.records()
            completed = sum(1 for r in records if r.status.value == "completed" and r.video_path)
            parent.send("finished")
            jobs, last_done, fetches, videos = parent.recv()
    finally:
        parent.send("stop")
        server.join(timeout=30)
    lag = all_saved_at - last_done if last_done else float("nan")
    section.details = {
        "generations": n, "job_seconds": JOB_SECONDS, "submit_s": submit_s, "idle_runs_s": idle, "busy_runs_s": busy,
        "completed_with_video": completed, "simulator_jobs": jobs, "fetches": fetches, "video_downloads": videos,
        "lag_after_last_finish_s": lag,
    }
    idle_s, busy_s = median(idle), median(busy)
    section.rows += [
        Row("load", f"{n} pending: completed with video saved", completed, "", n, "submitted", ratio(completed, n), "share",
            f"all {n}", completed == n),
        Row("load", "all saved, after the last job finished", lag, "s", JOB_SECONDS, "job time", ratio(lag, JOB_SECONDS), "×job"),
        Row("load", "fetches per generation", fetches / n, "", None, ""),
        Row("load", f"Generate page run, {n} pending (median)", busy_s * 1000, "ms", idle_s * 1000, "nothing pending",
            ratio(busy_s, idle_s), "×idle"),
        Row("load", f"Generate page run, {n} pending (p95)", percentile(busy, 95) * 1000, "ms", idle_s * 1000,
            "nothing pending", ratio(percentile(busy, 95), idle_s), "×idle"),
    ]
    return section
