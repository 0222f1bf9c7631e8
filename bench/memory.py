"""Memory: peak RSS of the app's process tree while a browser loads History with 10,000 rows.

`streamlit run app.py` starts in demo mode on a fresh copy of a 10k-row data
dir; headless Chromium (playwright) opens /history and waits until the page's
first run has finished and the table is on the page, then SETTLE_S longer. A sampler
thread sums RSS over the process and its children every 50 ms and keeps the
peak. Baseline: the same with an empty data dir. The browser is not counted.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from devtools.app_server import AppServer
from devtools.browser import launch, new_context, wait_for_first_run

from .common import history_dir
from .report import Row, Section, ratio

ROWS = 10_000
TARGET_MB = 300
SAMPLE_S = 0.05
SETTLE_S = 2.0
LOAD_TIMEOUT_MS = 120_000


class PeakRss:
    """Samples the RSS of a process tree on a thread; `peak` is the largest sum seen, in bytes."""

    def __init__(self, pid: int, interval: float = SAMPLE_S) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def current(self) -> int:
        total = 0
        for proc in [self.root, *self.root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:  # a child that just exited
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.current())
                self.samples += 1
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def peak_rss(data_dir: Path, *, has_rows: bool, log: Path) -> dict:
    """Start the app on `data_dir`, load History in Chromium; the peak RSS (bytes) and timings."""
    server = AppServer({"PLAYGROUND_DEMO_SECONDS": "45"}, data_dir, log=log)
    started = time.perf_counter()
    server.spawn()
    try:
        with PeakRss(server.process.pid) as sampler:
            server.wait_healthy()
            idle = sampler.current()
            with sync_playwright() as p:
                browser = launch(p)
                try:
                    page = new_context(browser).new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{server.url}/history?view=Table")  # the table's memory; the Gallery pages its tiles
                    wait_for_first_run(page, timeout=LOAD_TIMEOUT_MS)
                    if has_rows:
                        page.wait_for_selector("[data-testid='stDataFrame']", timeout=LOAD_TIMEOUT_MS)
                    else:
                        page.get_by_text("Nothing generated yet").wait_for(timeout=LOAD_TIMEOUT_MS)
                    loaded = time.perf_counter() - t0
                    time.sleep(SETTLE_S)  # the measure: memory a little after the load, not a wait for the page
                finally:
                    browser.close()
    finally:
        server.stop()
    return {
        "peak_bytes": sampler.peak,
        "idle_bytes": idle,
        "page_load_s": loaded,
        "samples": sampler.samples,
        "wall_s": time.perf_counter() - started,
    }


def run(quick: bool, work: Path) -> Section:
    rows = 1_000 if quick else ROWS
    empty = peak_rss(work / "memory-empty", has_rows=False, log=work / "memory-empty.log")
    full = peak_rss(history_dir(work, rows, work / f"memory-{rows}"), has_rows=True, log=work / f"memory-{rows}.log")
    mb = 2**20
    section = Section("memory")
    section.details = {"rows": rows, "empty": empty, "with_rows": full, "sample_interval_s": SAMPLE_S, "settle_s": SETTLE_S}
    section.rows = [
        Row(
            "memory",
            f"peak RSS, History with {rows:,} rows",
            full["peak_bytes"] / mb,
            "MB",
            empty["peak_bytes"] / mb,
            "empty history",
            ratio(full["peak_bytes"], empty["peak_bytes"]),
            "×empty",
            f"≤ {TARGET_MB} MB",
            full["peak_bytes"] / mb <= TARGET_MB,
        ),
        Row(
            "memory",
            f"History page load in Chromium, {rows:,} rows (info)",
            full["page_load_s"],
            "s",
            empty["page_load_s"],
            "empty history",
            ratio(full["page_load_s"], empty["page_load_s"]),
            "×empty",
        ),
    ]
    return section
