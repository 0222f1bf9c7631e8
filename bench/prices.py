"""Prices: quoting a request from the cached price list, and what showing prices adds to a Generate page run.

Quote: a PriceList loaded over loopback from the simulator's `GET /v1/models`
(every catalog model), then `price()` on a fixed mix of requests (per-second
variants by resolution, by duration, one variant, fixed, a model the list lacks,
a variable price). The figure is the median, over ROUNDS rounds of CALLS calls,
of one call's time.

Page: app.py in demo mode under AppTest (in this process, as the ui section
times page runs), the Generate page with veo2's form. Runs alternate, in ABBA
order, between the connection with its price list and the same connection with
none (the caption then says "no price known"), so drift on a shared machine
falls on both alike; the ratio is of the two medians of PAGE_RUNS runs each.
"""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from videogen.pricing import PriceList
from videogen.simulator import Simulator

from .common import ROOT, app_environment, median, timed_run
from .report import Row, Section, ratio

APP = ROOT / "app.py"
QUOTE_TARGET_MS = 1.0
PAGE_TARGET_RATIO = 1.1
CALLS = 1_000
ROUNDS = 21
PAGE_RUNS = 40
REQUESTS = [
    {"model": "veo2", "prompt": "p", "duration": 5},
    {"model": "alibaba/wan-2-6-i2v", "duration": 5, "resolution": "720p"},
    {"model": "google/veo3", "duration": 8, "resolution": "1080P"},
    {"model": "kling-video/v1.6/standard/text-to-video", "duration": 10},
    {"model": "minimax/hailuo-02", "duration": 6},
    {"model": "runway/gen4_turbo", "duration": 5},
    {"model": "luma/ray-1-6"},
    {"model": "pixverse/lip-sync"},
    {"model": "not-in-the-list"},
]
_CLEARED_ENV = ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS")


def quote_times(work: Path, rounds: int, calls: int) -> tuple[list[float], int]:
    """(seconds per call, one per round; how many of the mix were priced)."""
    with Simulator() as sim:
        prices = PriceList(sim.url, work / "prices-quote", server=sim.url)
        if not prices.refresh():
            raise RuntimeError("the simulator's price list could not be read")
    priced = sum(prices.price(body) is not None for body in REQUESTS)
    bodies = (REQUESTS * (calls // len(REQUESTS) + 1))[:calls]
    per_call = []
    for _ in range(rounds):
        started = time.perf_counter()
        for body in bodies:
            prices.price(body)
        per_call.append((time.perf_counter() - started) / calls)
    return per_call, priced


def page_times(data_dir: Path, runs: int) -> tuple[list[float], list[float], str]:
    """(page runs with prices, page runs without, the caption shown with prices)."""
    from components import services

    with app_environment(PLAYGROUND_DATA_DIR=str(data_dir), PLAYGROUND_DEMO_SECONDS="45", **dict.fromkeys(_CLEARED_ENV)):
        at = AppTest.from_file(str(APP), default_timeout=60)
        timed_run(at)  # opens the demo connection, which reads its price list
        (conn,) = services.connections()._open.values()
        prices = conn.prices
        if prices is None or not prices.wait_loaded(30):
            raise RuntimeError("the demo connection has no price list")
        timed_run(at)
        caption = next((c.value for c in at.caption if "price list" in c.value), "")
        if "$1.95" not in caption.replace("\\", ""):
            raise RuntimeError(f"the Generate page did not show veo2's price: {caption!r}")
        shown: list[float] = []
        hidden: list[float] = []
        for i in range(runs):
            # ABBA: the run after a switch is not always the same kind.
            order = [(prices, shown), (None, hidden)] if i % 2 == 0 else [(None, hidden), (prices, shown)]
            for kept, times in order:
                conn.prices = kept
                times.append(timed_run(at))
        conn.prices = prices
        return shown, hidden, caption.replace("\\", "")


def run(quick: bool, work: Path) -> Section:
    rounds, calls, runs = (5, 200, 6) if quick else (ROUNDS, CALLS, PAGE_RUNS)
    per_call, priced = quote_times(work, rounds, calls)
    shown, hidden, caption = page_times(work / "prices-page", runs)
    quote_ms = median(per_call) * 1000
    shown_s, hidden_s = median(shown), median(hidden)
    page_ratio = ratio(shown_s, hidden_s)
    section = Section("prices")
    section.details = {
        "calls_per_round": calls,
        "quote_per_call_s": per_call,
        "requests": REQUESTS,
        "priced_of_requests": priced,
        "page_runs_with_prices_s": shown,
        "page_runs_without_s": hidden,
        "caption": caption,
    }
    section.rows = [
        Row(
            "prices",
            f"price of a request from the cached price list (median of {rounds} × {calls:,} calls)",
            quote_ms,
            "ms",
            target=f"≤ {QUOTE_TARGET_MS:g} ms",
            passed=quote_ms <= QUOTE_TARGET_MS,
        ),
        Row(
            "prices",
            "Generate page run with prices shown vs without",
            shown_s * 1000,
            "ms",
            hidden_s * 1000,
            "without prices",
            page_ratio,
            "× without",
            f"≤ {PAGE_TARGET_RATIO:g}×",
            page_ratio is not None and page_ratio <= PAGE_TARGET_RATIO,
        ),
    ]
    return section
