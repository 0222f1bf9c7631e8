"""Detection delay and request count: the project's poller against fixed-interval polling loops.

50 jobs with run times drawn (fixed seed) from a log-normal around 45 s, sigma
0.25, all divided by FACTOR so the run takes about a minute. Three contestants
poll their own copy of every job on one simulator, at the same time:

    ours  videogen.polling.Poller, schedule Schedule.scaled(45/FACTOR), default error backoff
    A     one thread per job, fetch every 2 s (unscaled): the vendor SDK's default loop
    B     the same, every 10 s

Delay = Record.completed_at (the store applied the poll that saw "completed")
minus the simulator's Job.completed_at(). Delays are reported unscaled
(multiplied back by FACTOR); request counts come from the simulator's log.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from videogen.api import ApiError, Client, Status
from videogen.polling import Poller, Schedule
from videogen.simulator import JobScript, Simulator
from videogen.store import Store

from .common import API_KEY, BODY, median, percentile
from .report import Row, Section, ratio

TYPICAL = 45.0  # median run time, unscaled seconds (veo2)
SPREAD = 0.25  # log-normal sigma
SEED = 45
SERVER = "bench-simulator"
INTERVAL_A = 2.0  # unscaled seconds
INTERVAL_B = 10.0


@dataclass
class Contestant:
    name: str
    store: Store
    client: Client
    ids: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)


def planned_seconds(n: int, seed: int = SEED) -> list[float]:
    """Unscaled run times: log-normal with median TYPICAL."""
    rng = random.Random(seed)
    return [rng.lognormvariate(math.log(TYPICAL), SPREAD) for _ in range(n)]


def _fixed_loop(client: Client, store: Store, gen_id: str, interval: float, stop: threading.Event) -> None:
    """The SDK's loop: sleep, fetch, until final. The create already answered "queued", so it sleeps first."""
    while not stop.wait(interval):
        try:
            generation = client.fetch(gen_id, model=BODY["model"])
        except ApiError:
            continue  # try again next interval, as the SDK does
        store.apply(generation)
        if generation.status.is_final:
            return


def _all_final(contestants: list[Contestant]) -> bool:
    return all(r.status.is_final for c in contestants for r in c.store.find(c.ids))


def run(quick: bool, work: Path, *, sequential: bool = False) -> Section:
    """`sequential=True` runs one contestant at a time (to check that running them together does not distort)."""
    n, factor = (16, 5.0) if quick else (50, 1.5)
    seconds = planned_seconds(n)
    section = Section("detection")
    with Simulator(job_seconds=TYPICAL / factor, videos_dir=work / "clips") as sim:
        # Render the one clip first, so every job's completion is its planned time, not render time.
        warm = Client(API_KEY, base_url=sim.url)
        warm.create(BODY)
        sim.wait_rendered(timeout=120)
        warm.close()

        intervals = {"A": INTERVAL_A / factor, "B": INTERVAL_B / factor}
        contestants = [
            Contestant(name, Store(work / f"detection-{name}"), Client(API_KEY, base_url=sim.url)) for name in ("ours", "A", "B")
        ]
        ours = contestants[0]
        poller = Poller(ours.store, ours.client, server=SERVER, schedule_for=lambda model: Schedule.scaled(TYPICAL / factor))
        stop = threading.Event()
        started = time.monotonic()
        groups = [[c] for c in contestants] if sequential else [contestants]
        try:
            for group in groups:
                if ours in group:
                    poller.start()
                # Job i of every contestant is created back to back, with the same planned run time.
                for planned in seconds:
                    for c in group:
                        sim.faults.script(JobScript(seconds=planned / factor))
                        generation = c.client.create(BODY)
                        c.store.add(generation, request=BODY, server=SERVER)
                        c.ids.append(generation.id)
                        if c is ours:
                            poller.wake()  # what Connection.submit does
                        else:
                            thread = threading.Thread(
                                target=_fixed_loop, args=(c.client, c.store, generation.id, intervals[c.name], stop), daemon=True
                            )
                            thread.start()
                            c.threads.append(thread)
                deadline = time.monotonic() + max(seconds) / factor + 60
                while not _all_final(group) and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            poller.stop()
            stop.set()
            for c in contestants:
                for thread in c.threads:
                    thread.join(5)
                c.client.close()
        wall = time.monotonic() - started

        results = {}
        for c in contestants:
            records = c.store.find(c.ids)
            done = [r for r in records if r.status is Status.COMPLETED and r.completed_at is not None]
            delays = [(r.completed_at - sim.jobs[r.id].completed_at()) * factor for r in done]
            fetches = [sim.count("fetch", generation_id=i) for i in c.ids]
            results[c.name] = {
                "completed": len(done),
                "median_delay_s": median(delays) if delays else None,
                "p95_delay_s": percentile(delays, 95) if delays else None,
                "max_delay_s": max(delays) if delays else None,
                "fetches_per_generation": sum(fetches) / len(fetches),
                "fetches_max": max(fetches),
            }

    o, a, b = results["ours"], results["A"], results["B"]
    section.details = {
        "generations": n,
        "time_factor": factor,
        "mode": "sequential" if sequential else "concurrent (all three on one simulator at once)",
        "planned_unscaled_s": {"median": median(seconds), "min": min(seconds), "max": max(seconds)},
        "wall_s": round(wall, 1),
        "results": results,
    }
    fetch_ratio = ratio(o["fetches_per_generation"], a["fetches_per_generation"])
    vs_b = ratio(b["median_delay_s"], o["median_delay_s"])
    section.rows = [
        Row(
            "detection",
            "median delay, ours",
            o["median_delay_s"],
            "s",
            a["median_delay_s"],
            "A: 2 s loop",
            ratio(o["median_delay_s"], a["median_delay_s"]),
            "ours/A",
            "≤ 1 s",
            o["median_delay_s"] <= 1.0,
        ),
        Row(
            "detection",
            "p95 delay, ours",
            o["p95_delay_s"],
            "s",
            a["p95_delay_s"],
            "A: 2 s loop",
            ratio(o["p95_delay_s"], a["p95_delay_s"]),
            "ours/A",
            "≤ 2 s",
            o["p95_delay_s"] <= 2.0,
        ),
        Row(
            "detection",
            "fetches per generation, ours",
            o["fetches_per_generation"],
            "",
            a["fetches_per_generation"],
            "A: 2 s loop",
            fetch_ratio,
            "ours/A",
            "ours/A ≤ 0.5",
            fetch_ratio <= 0.5,
        ),
        Row(
            "detection",
            "median delay, ours vs B",
            o["median_delay_s"],
            "s",
            b["median_delay_s"],
            "B: 10 s loop",
            vs_b,
            "B/ours",
            "B/ours ≥ 5",
            vs_b >= 5,
        ),
        Row("detection", "p95 delay, B (info)", b["p95_delay_s"], "s"),
        Row(
            "detection",
            "fetches per generation, B (info)",
            b["fetches_per_generation"],
            "",
            a["fetches_per_generation"],
            "A: 2 s loop",
            ratio(b["fetches_per_generation"], a["fetches_per_generation"]),
            "B/A",
        ),
    ]
    if any(r["completed"] < n for r in results.values()):
        section.rows.append(
            Row(
                "detection",
                "generations seen completed (all contestants)",
                min(r["completed"] for r in results.values()),
                "",
                n,
                "expected",
                target=f"= {n}",
                passed=False,
            )
        )
    return section
