"""Fan-out: one poller sweep over 200 pending generations on a server that takes 300 ms per fetch.

The poller should fetch them side by side, so a sweep costs about one fetch's
latency, not 200 of them. Setup: 200 simulator jobs that stay pending for an
hour, recorded in a fresh store as created an hour ago, so with
Schedule(typical=45) every one is due at the poller's first sweep (and not
again for 45 s). The clock runs from Poller.start() to the 200th Store.apply.

Baselines, against the same jobs: one fetch on its own (the target's unit) and
a serial sweep, a plain loop of Client.fetch (about 200 x 300 ms = 60 s).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from videogen.client import Client
from videogen.generation import Generation
from videogen.poller import Poller
from videogen.schedule import Schedule
from videogen.simulator import JobPlan, Simulator
from videogen.store import Record, Store

from .common import API_KEY, BODY, median
from .report import Row, Section, ratio

LATENCY = 0.3
DEFAULT_WORKERS = 64  # Poller's default, and Client's default pool_size
LARGER_WORKERS = (128, 256)  # tried only when the default misses the target
TARGET_RATIO = 3.0
SERVER = "bench-simulator"


class _TimedStore(Store):
    """A Store that notes when the n-th poll result was applied: the sweep's end, without polling the store."""

    def __init__(self, data_dir: Path, expected: int) -> None:
        super().__init__(data_dir)
        self.expected = expected
        self.applied = 0
        self.finished_at: float | None = None
        self.done = threading.Event()
        self._count_lock = threading.Lock()

    def apply(self, generation: Generation, *, count_poll: bool = True) -> Record:
        record = super().apply(generation, count_poll=count_poll)
        with self._count_lock:
            self.applied += 1
            if self.applied == self.expected:
                self.finished_at = time.perf_counter()
                self.done.set()
        return record


def _sweep(sim: Simulator, generations: list[Generation], workers: int, work: Path) -> float:
    """Seconds for a fresh poller with `workers` threads to fetch every generation once."""
    store = _TimedStore(work / f"fanout-{workers}", expected=len(generations))
    long_ago = time.time() - 3600
    for generation in generations:
        store.add(generation, request=BODY, server=SERVER, created_at=long_ago)
    # The engine pairs a 64-worker poller with a 64-connection client; a larger pool keeps that pairing.
    client = Client(API_KEY, base_url=sim.url, pool_size=max(DEFAULT_WORKERS, workers))
    poller = Poller(store, client, server=SERVER, workers=workers, schedule_for=lambda model: Schedule(typical=45.0))
    started = time.perf_counter()
    poller.start()
    try:
        if not store.done.wait(timeout=120):
            raise RuntimeError(f"sweep with {workers} workers did not finish: {store.applied}/{len(generations)} applied")
    finally:
        poller.stop()
        client.close()
    polled = [r.poll_count for r in store.records()]
    assert min(polled) >= 1, "a generation was not polled"
    return store.finished_at - started


def run(quick: bool, work: Path) -> Section:
    n = 40 if quick else 200
    section = Section("fanout")
    with Simulator(videos_dir=work / "clips") as sim:
        client = Client(API_KEY, base_url=sim.url)
        sim.faults.plan(JobPlan(seconds=3600), times=n)  # pending for the whole section
        generations = [client.create(BODY) for _ in range(n)]  # before the latency is switched on
        sim.wait_rendered(timeout=120)  # no ffmpeg in the background while timing
        sim.latency = LATENCY

        client.fetch(generations[0].id)  # open the connection: a single fetch is timed warm
        singles = []
        for generation in generations[:5]:
            t0 = time.perf_counter()
            client.fetch(generation.id)
            singles.append(time.perf_counter() - t0)
        single = median(singles)

        sweeps = {DEFAULT_WORKERS: _sweep(sim, generations, DEFAULT_WORKERS, work)}
        if sweeps[DEFAULT_WORKERS] > TARGET_RATIO * single:
            for workers in LARGER_WORKERS:
                sweeps[workers] = _sweep(sim, generations, workers, work)

        t0 = time.perf_counter()
        for generation in generations:
            client.fetch(generation.id)
        serial = time.perf_counter() - t0
        client.close()

    section.details = {
        "generations": n,
        "latency_s": LATENCY,
        "single_fetch_s": single,
        "single_fetch_samples_s": singles,
        "serial_sweep_s": serial,
        "poller_sweep_s_by_workers": sweeps,
    }
    section.rows = [
        Row("fanout", "single fetch latency", single, "s"),
        Row("fanout", f"serial sweep, {n} fetches", serial, "s", single, "single fetch", ratio(serial, single), "×single"),
    ]
    for workers, seconds in sweeps.items():
        label = "default" if workers == DEFAULT_WORKERS else "larger"
        section.rows.append(
            Row("fanout", f"poller sweep, {workers} workers ({label})", seconds, "s", single, "single fetch",
                ratio(seconds, single), "×single", f"≤ {TARGET_RATIO:g}× single", seconds <= TARGET_RATIO * single)
        )
        section.rows.append(
            Row("fanout", f"poller sweep, {workers} workers, vs serial", seconds, "s", serial, "serial sweep",
                ratio(seconds, serial), "ours/serial")
        )
    return section
