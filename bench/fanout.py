"""Fan-out: one poller sweep over 200 pending generations on a server that takes 300 ms per fetch.

The poller should fetch them side by side, so a sweep costs about one fetch's
latency, not 200 of them. Setup: 200 simulator jobs that stay pending for an
hour (`JobScript(seconds=3600)`, `sim.latency = 0.3`), recorded in a fresh store
as created an hour ago, so with Schedule(typical=45) all of them are due at the
poller's first sweep (and none again for 45 s). The clock runs from
Poller.start() to the 200th Store.apply.

The simulator runs in a child process. In this one it would share the GIL with
the poller: 200 server threads parsing requests and writing JSON would be
timed as if they were the poller's own work, which a remote API never is.

Each worker count gets its own client, warmed by one untimed sweep, so timed
sweeps reuse open connections as a long-running poller does; the median of
REPEATS sweeps is reported. Baselines, on the same jobs and warm connections:
one fetch on its own (the target's unit), and a serial sweep (a plain loop of
Client.fetch: about 200 x 300 ms = 60 s).
"""

from __future__ import annotations

import inspect
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from videogen.api import Answer, Client, Status
from videogen.polling import Poller, Schedule
from videogen.simulator import JobScript, Simulator
from videogen.store import Record, Store

from .common import API_KEY, BODY, median
from .report import Row, Section, ratio

LATENCY = 0.3
# The poller's default pool size (read from its signature, so the table never goes stale),
# and smaller pools for comparison: 64 was the default before the first bench run.
DEFAULT_WORKERS = inspect.signature(Poller).parameters["workers"].default
OTHER_WORKERS = (64, 128)
REPEATS = 5
TARGET_RATIO = 3.0
SERVER = "bench-simulator"


def _serve(pipe: Pipe, n: int, videos_dir: str, latency: float) -> None:
    """Child process: a simulator holding `n` pending jobs; answers with (url, ids), serves until told to stop."""
    with Simulator(videos_dir=videos_dir) as sim:
        client = Client(API_KEY, base_url=sim.url)
        sim.faults.script(JobScript(seconds=3600), times=n)
        ids = [client.create(BODY).id for _ in range(n)]  # before the latency is switched on
        client.close()
        sim.wait_rendered(timeout=120)  # no ffmpeg in the background while timing
        sim.latency = latency
        pipe.send((sim.url, ids))
        pipe.recv()


class _TimedStore(Store):
    """A Store that notes when the n-th poll result was applied: the sweep's end, without polling the store."""

    def __init__(self, data_dir: Path, expected: int) -> None:
        super().__init__(data_dir)
        self.expected = expected
        self.applied = 0
        self.finished_at: float | None = None
        self.done = threading.Event()
        self._count_lock = threading.Lock()

    def apply(self, generation: Answer, *, count_poll: bool = True) -> Record:
        record = super().apply(generation, count_poll=count_poll)
        with self._count_lock:
            self.applied += 1
            if self.applied == self.expected:
                self.finished_at = time.perf_counter()
                self.done.set()
        return record


def _sweep(client: Client, ids: list[str], workers: int, data_dir: Path) -> float:
    """Seconds for a fresh poller with `workers` threads to fetch every generation once."""
    store = _TimedStore(data_dir, expected=len(ids))
    long_ago = time.time() - 3600
    for gen_id in ids:
        store.add(Answer(gen_id, Status.QUEUED, "queued"), request=BODY, server=SERVER, created_at=long_ago)
    poller = Poller(store, client, server=SERVER, workers=workers, schedule_for=lambda model: Schedule(typical=45.0))
    started = time.perf_counter()
    poller.start()
    try:
        if not store.done.wait(timeout=120):
            raise RuntimeError(f"sweep with {workers} workers did not finish: {store.applied}/{len(ids)} applied")
    finally:
        poller.stop()
    if min(r.poll_count for r in store.records()) < 1:
        raise RuntimeError("a generation was not polled")
    return store.finished_at - started


def _sweeps(url: str, ids: list[str], workers: int, work: Path, repeats: int) -> list[float]:
    # The engine pairs its 64-worker poller with a 64-connection client; larger counts keep that pairing.
    client = Client(API_KEY, base_url=url, pool_size=max(DEFAULT_WORKERS, workers))
    try:
        times = [_sweep(client, ids, workers, work / f"fanout-{workers}-{i}") for i in range(repeats + 1)]
    finally:
        client.close()
    return times[1:]  # the first one opened the connections


def run(quick: bool, work: Path) -> Section:
    n, repeats = (40, 1) if quick else (200, REPEATS)
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that already runs threads
    pipe, child_end = ctx.Pipe()
    child = ctx.Process(target=_serve, args=(child_end, n, str(work / "clips"), LATENCY), daemon=True)
    child.start()
    try:
        if not pipe.poll(180):
            raise RuntimeError("the simulator process did not start")
        url, ids = pipe.recv()

        client = Client(API_KEY, base_url=url)
        client.fetch(ids[0])  # open the connection: every fetch below is on a warm one, like the sweeps
        singles = []
        for gen_id in ids[:5]:
            t0 = time.perf_counter()
            client.fetch(gen_id)
            singles.append(time.perf_counter() - t0)
        single = median(singles)

        sweeps = {w: _sweeps(url, ids, w, work, repeats) for w in (DEFAULT_WORKERS, *OTHER_WORKERS)}

        t0 = time.perf_counter()
        for gen_id in ids:
            client.fetch(gen_id)
        serial = time.perf_counter() - t0
        client.close()
    finally:
        pipe.send("stop")
        child.join(15)
        if child.is_alive():
            child.terminate()

    section = Section("fanout")
    section.details = {
        "generations": n,
        "latency_s": LATENCY,
        "simulator": "child process",
        "single_fetch_samples_s": singles,
        "serial_sweep_s": serial,
        "poller_sweeps_s_by_workers": sweeps,
    }
    section.rows = [
        Row("fanout", "single fetch latency", single, "s"),
        Row("fanout", f"serial sweep, {n} fetches", serial, "s", single, "single fetch", ratio(serial, single), "×single"),
    ]
    for workers, times in sweeps.items():
        seconds = median(times)
        # The target is the default pool's; the smaller pools show why it is the default.
        if workers == DEFAULT_WORKERS:
            label, target, passed = "default", f"≤ {TARGET_RATIO:g}× single", seconds <= TARGET_RATIO * single
        else:
            label, target, passed = "smaller pool, info", "", None
        section.rows += [
            Row(
                "fanout",
                f"poller sweep, {workers} workers ({label})",
                seconds,
                "s",
                single,
                "single fetch",
                ratio(seconds, single),
                "×single",
                target,
                passed,
            ),
            Row(
                "fanout",
                f"poller sweep, {workers} workers, vs serial",
                seconds,
                "s",
                serial,
                "serial sweep",
                ratio(seconds, serial),
                "ours/serial",
            ),
        ]
    return section
