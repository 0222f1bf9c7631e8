"""Helpers shared by the bench sections: statistics, a rendered sample clip, prefilled history data."""

from __future__ import annotations

import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, nullcontext
from pathlib import Path

import requests

from devtools.app_server import free_port
from videogen import catalog
from videogen.api import Answer, Status
from videogen.connection import DEMO_KEY, DEMO_SERVER, account_of
from videogen.polling import LOST_MESSAGE
from videogen.simulator.render import render_clip
from videogen.store import Store

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-bench-0123456789abcdef"
# One request for every simulated job: the simulator renders one clip per distinct
# request, so a single prompt keeps render time out of the timings.
BODY = {"model": "veo2", "prompt": "A paper boat drifting down a rain-soaked street", "aspect_ratio": "16:9", "duration": 5}


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), q in 0..100."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@contextmanager
def simulator_process(state_dir: Path, *, job_seconds: float, latency: float = 0.0) -> Iterator[str]:
    """`python -m videogen.simulator` in its own process, as the real API is: its URL while it runs."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "videogen.simulator",
            "--port",
            str(port),
            "--job-seconds",
            str(job_seconds),
            "--state-dir",
            str(state_dir),
            "--latency",
            str(latency),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(url + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def sample_clip(work: Path) -> Path:
    """The demo's default clip (5 s, 16:9), rendered once per bench run."""
    path = work / "sample-5s-16x9.mp4"
    if not path.exists():
        render_clip(path, prompt=BODY["prompt"], aspect_ratio="16:9", duration=5)
    return path


# -- realistic history rows -------------------------------------------------

_SUBJECTS = [
    "a red fox",
    "an old lighthouse keeper",
    "a paper boat",
    "two astronauts",
    "a hummingbird",
    "a vintage tram",
    "a glass jellyfish",
    "a street musician",
    "a snow leopard",
    "a tiny robot",
    "a koi pond",
    "a hot air balloon",
]
_ACTIONS = [
    "trotting through fresh snow",
    "walking along a windy pier",
    "drifting down a flooded street",
    "floating above the clouds",
    "hovering over wild flowers",
    "climbing a steep hill",
    "pulsing in dark water",
    "playing under neon signs",
]
_PLACES = ["at dawn", "at golden hour", "in a thunderstorm", "under the northern lights", "in a foggy forest", "in Tokyo at night"]
_STYLES = [
    "cinematic drone shot, shallow depth of field",
    "handheld documentary style",
    "35 mm film grain, warm tones",
    "slow motion, macro lens",
    "wide establishing shot, volumetric light",
    "stop-motion look, pastel palette",
]
_NEGATIVES = ["blurry, low quality", "text, watermark", "cartoon, oversaturated", "people"]
_FAILURES = [
    "The prompt was rejected by the safety filter.",
    "GenerationError: the model could not complete the request.",
    "Internal error while generating the video. Please try again.",
]


def _request(rng: random.Random) -> dict:
    params = {
        "prompt": f"{rng.choice(_SUBJECTS).capitalize()} {rng.choice(_ACTIONS)} {rng.choice(_PLACES)}, {rng.choice(_STYLES)}",
        "aspect_ratio": "16:9" if rng.random() < 0.8 else "9:16",
        "duration": rng.choice([5, 5, 6, 7, 8]),
    }
    if rng.random() < 0.3:
        params["negative_prompt"] = rng.choice(_NEGATIVES)
    if rng.random() < 0.25:
        params["seed"] = rng.randrange(1, 2**31)
    if rng.random() < 0.1:
        params["enhance_prompt"] = False
    # The exact body the app would have sent, defaults included.
    return catalog.validate("veo2", params).body


def history_dir(work: Path, n: int, dest: Path) -> Path:
    """A fresh copy of a data dir holding `n` history rows (the rows are made once per bench run)."""
    template = work / "templates" / f"history-{n}"
    if not template.exists():
        fill_history(template.with_suffix(".part"), n, video=sample_clip(work))
        template.with_suffix(".part").rename(template)
    shutil.copytree(template, dest)
    return dest


def fill_history(data_dir: Path, n: int, *, video: Path, seed: int = 7, all_completed: bool = False, database_url: str = "") -> Store:
    """A data dir with `n` finished demo generations, as the app leaves them: ~94% completed with a saved
    video (all sharing one file, which is never read unless a row is opened), ~5% failed, ~1% lost.

    Rows go in through the Store API, so they are exactly what the engine writes. Each is created
    `taken` seconds ago and finished now, so "Time taken" reads like a real run.
    """
    store = Store(data_dir, database_url=database_url)
    rng = random.Random(seed)
    account = account_of(DEMO_KEY)
    # On SQLite, when the last connection closes, it checkpoints the WAL (~1 ms). Holding one open
    # meanwhile makes filling 10k rows ~5x faster.
    with closing(sqlite3.connect(store.path)) if store.path else nullcontext() as hold:
        if hold:
            hold.execute("SELECT COUNT(*) FROM generations").fetchone()
        for _ in range(n):
            request = _request(rng)
            gen_id = f"{uuid.UUID(int=rng.getrandbits(128))}:veo2"
            taken = rng.lognormvariate(math.log(45), 0.25)
            store.add(
                Answer(gen_id, Status.QUEUED, "queued"),
                request=request,
                server=DEMO_SERVER,
                account=account,
                created_at=time.time() - taken,
            )
            roll = 1.0 if all_completed else rng.random()
            if roll < 0.05:
                store.apply(Answer(gen_id, Status.FAILED, "error", error=rng.choice(_FAILURES)))
            elif roll < 0.06:
                store.mark_lost(gen_id, LOST_MESSAGE)
            else:
                key = uuid.UUID(int=rng.getrandbits(128)).hex[:20]
                url = f"http://127.0.0.1:8765/videos/{key}.mp4?sig={key[:16]}"
                store.apply(Answer(gen_id, Status.COMPLETED, "completed", video_url=url, credits_used=24_000.0 * request["duration"]))
                store.set_video_path(gen_id, video)
    return store


@contextmanager
def app_environment(**values: str | None) -> Iterator[None]:
    """Run the app (AppTest, in this process) with these environment variables (None: unset);
    afterwards put them back and stop every connection, poller and simulator it opened."""
    import streamlit as st

    from components import services

    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    try:
        yield
    finally:
        services.connections().close_all()
        st.cache_resource.clear()
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def timed_run(at) -> float:  # at: an AppTest
    """Seconds for one AppTest page run; an exception in the app fails the section instead of timing it."""
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"the app raised: {[e.value for e in at.exception][:3]}")
    return elapsed
