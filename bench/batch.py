"""Variants: a batch of 8 recorded as one, and the Compare page with 4 videos.

Batch: a Connection (client, store, poller) against the simulator in its
own process (as the real API is) on loopback. The figure is the time from the
confirmation (`submit_batch` called) until all 8 generations are in the
store; the baseline, in the same run, is one `submit` of the same request
(create and record). Both are medians of RUNS. Loopback answers in about a
millisecond, far quicker than the real API, so the same is measured again
with the simulator holding every answer 200 ms (`--latency`), where sending
several at once shows. Target: the batch takes 8× one create or less.

Compare: app.py in demo mode (AppTest, no browser) on the Compare page with
`?ids=` naming 4 finished generations, each with its own copy of a rendered
MP4; the median of RUNS page runs after one untimed run. Baseline: the same
page with no ids (it stops at its hint). Target: 150 ms or less.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from videogen import variants
from videogen.api import Answer, Status
from videogen.connection import DEMO_KEY, DEMO_SERVER, account_of, connect
from videogen.store import Store

from .common import API_KEY, BODY, ROOT, app_environment, median, sample_clip, simulator_process, timed_run
from .report import Row, Section, ratio

BATCH = 8
RUNS = 9
LATENCY_S = 0.2
COMPARED = 4
PAGE_TARGET_S = 0.150
_CLEARED_ENV = ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS")


def _timed_creates(url: str, data_dir: Path, runs: int) -> tuple[list[float], list[float]]:
    """(one submit, a batch of 8) in seconds, `runs` times each."""
    conn = connect(API_KEY, base_url=url, data_dir=data_dir, typical_seconds=3600)  # no poll gets in the way
    try:
        conn.submit(BODY)  # warm-up: connection pool, catalog, schema compilation
        conn.submit_batch([BODY] * 2, batch_id="warm-up")  # and the batch's threads
        one, batch = [], []
        for _ in range(runs):
            started = time.perf_counter()
            conn.submit(BODY)
            one.append(time.perf_counter() - started)
            bodies = [v.body for v in variants.expand(BODY, "seed", BATCH)]
            batch_id = variants.new_batch_id()
            started = time.perf_counter()
            outcomes = conn.submit_batch(bodies, batch_id=batch_id)
            batch.append(time.perf_counter() - started)
            if len(conn.store.batch(batch_id)) != BATCH or any(isinstance(o, Exception) for o in outcomes):
                raise RuntimeError(f"the batch was not recorded whole: {outcomes}")
        return one, batch
    finally:
        conn.close()


def _compare_store(work: Path, data_dir: Path) -> list[str]:
    store = Store(data_dir)
    clip = sample_clip(work)
    ids = []
    for i in range(COMPARED):
        gen_id = f"compare-{i}:veo2"
        store.add(Answer(gen_id, Status.QUEUED), request={**BODY, "seed": i}, server=DEMO_SERVER, account=account_of(DEMO_KEY))
        store.apply(Answer(gen_id, Status.COMPLETED, video_url="https://cdn.example.com/v.mp4", credits_used=1.0), count_poll=False)
        video = data_dir / "videos" / f"compare-{i}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, video)
        store.set_video_path(gen_id, video)
        ids.append(gen_id)
    return ids


def _compare_runs(work: Path, runs: int) -> tuple[list[float], list[float]]:
    data_dir = work / "compare-data"
    ids = _compare_store(work, data_dir)
    with app_environment(PLAYGROUND_DATA_DIR=str(data_dir), PLAYGROUND_DEMO_SECONDS="45", **dict.fromkeys(_CLEARED_ENV)):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        timed_run(at)
        at.switch_page("pages/compare.py")
        timed_run(at)
        empty = [timed_run(at) for _ in range(runs)]
        at.query_params["ids"] = ",".join(ids)
        timed_run(at)
        if len(at.get("video")) != COMPARED:
            raise RuntimeError(f"Compare showed {len(at.get('video'))} videos, expected {COMPARED}")
        full = [timed_run(at) for _ in range(runs)]
    return empty, full


def run(quick: bool, work: Path) -> Section:
    runs = 3 if quick else RUNS
    section = Section("batch")
    details: dict = {"runs": runs, "batch": BATCH, "latency_s": LATENCY_S}
    for latency in (0.0, LATENCY_S):
        with simulator_process(work / f"batch-simulator-{latency}", job_seconds=3600, latency=latency) as url:
            one, batch = _timed_creates(url, work / f"batch-data-{latency}", runs)
        details[f"latency_{latency}"] = {"one_s": one, "batch_s": batch}
        one_s, batch_s = median(one), median(batch)
        where = "loopback" if not latency else f"answers held {latency * 1000:.0f} ms"
        section.rows.append(
            Row(
                "batch",
                f"Batch of {BATCH}: confirm to all in the store ({where})",
                batch_s * 1000,
                "ms",
                one_s * 1000,
                "one create",
                ratio(batch_s, one_s),
                "×one",
                f"≤ {BATCH}× one create",
                batch_s <= BATCH * one_s,
            )
        )
    empty, full = _compare_runs(work, runs)
    details["compare"] = {"empty_s": empty, "four_videos_s": full}
    section.details = details
    full_s, empty_s = median(full), median(empty)
    section.rows.append(
        Row(
            "batch",
            f"Compare page run, {COMPARED} videos",
            full_s * 1000,
            "ms",
            empty_s * 1000,
            "Compare, no ids",
            ratio(full_s, empty_s),
            "×no ids",
            f"≤ {PAGE_TARGET_S * 1000:g} ms",
            full_s <= PAGE_TARGET_S,
        )
    )
    return section
