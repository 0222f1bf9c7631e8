"""UI run times, with Streamlit's AppTest (the script runs in this process, no browser).

History: app.py in demo mode on a fresh data dir of 100 / 1,000 / 10,000
finished rows; after one untimed History run (first-run imports and caches), the
median of RUNS full runs. The page must be no worse than linear in rows.

Generate: the cards. Each card has its own place on the page; finished cards are
drawn by the page run, and only the running ones are redrawn by the fragment
that ticks every couple of seconds. So the fragment's worst case is 50 running
cards: a function script that sets the tab's generations and calls
`generation_card.card_grid` on 50 running generations is timed (the fragment
runs inline in it). For context, the same with 50 finished cards, each with its
own copy of a rendered MP4 (a page run, which does not tick). The baseline is
the same script with no cards (AppTest's own per-run cost).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import session
from videogen.api import Answer, Status
from videogen.connection import DEMO_KEY, DEMO_SERVER, account_of
from videogen.polling import PollPlan, RunTimeEstimate, Schedule, poll_plan, video_filename
from videogen.store import Record, Store

from .common import ROOT, app_environment, fill_history, history_dir, median, sample_clip, timed_run
from .report import Row, Section, ratio

APP = ROOT / "app.py"
SIZES = (100, 1_000, 10_000)
RUNS = 5
CARDS = 50
HISTORY_TARGET_S = 1.5
FRAGMENT_TARGET_S = 0.150
# Anything that would take the app out of demo mode, or change its timings.
_CLEARED_ENV = ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS")


@contextmanager
def _demo_app(data_dir: Path) -> Iterator[None]:
    """Point the app at `data_dir` in demo mode; afterwards stop its simulator and poller and forget them."""
    if (ROOT / ".streamlit" / "secrets.toml").exists():
        raise RuntimeError(".streamlit/secrets.toml exists: the app would not run in demo mode. Move it aside to bench the UI.")
    with app_environment(PLAYGROUND_DATA_DIR=str(data_dir), PLAYGROUND_DEMO_SECONDS="45", **dict.fromkeys(_CLEARED_ENV)):
        yield


def history_runs(data_dir: Path, rows: int, runs: int) -> tuple[float, list[float]]:
    """(first History run, then `runs` more) in seconds."""
    with _demo_app(data_dir):
        at = AppTest.from_file(str(APP), default_timeout=120)
        timed_run(at)  # the Generate page, which opens the demo connection
        at.switch_page("pages/history.py")
        at.session_state[session.HISTORY_VIEW] = "Table"  # the table: History opens as the Gallery (bench/gallery.py)
        first = timed_run(at)
        shown = len(at.dataframe[0].value) if at.dataframe else 0
        if shown != rows:
            raise RuntimeError(f"History showed {shown} rows, expected {rows}")
        return first, [timed_run(at) for _ in range(runs)]


@dataclass
class _CardsConnection:
    """The part of a Connection that card_grid uses, over a real Store: no simulator or poller needed."""

    store: Store
    base_url: str = "http://127.0.0.1:8765"

    def pending(self, *, limit: int | None = None, owner: str | None = None) -> list[Record]:
        return self.store.pending(DEMO_SERVER, account_of(DEMO_KEY), limit=limit, owner=owner)

    def pending_ids(self, owner: str | None = None) -> set[str]:
        return self.store.pending_ids(DEMO_SERVER, account_of(DEMO_KEY), owner)

    def poll_plan(self, record: Record) -> PollPlan:
        schedule = Schedule(typical=45.0)
        return poll_plan(record, schedule, RunTimeEstimate(schedule.typical, schedule.spread, samples=0, learned=False))


def _cards_script(conn, ids: list[str]) -> None:
    # Runs as an AppTest script: AppTest copies this function's source, so imports live inside.
    import time

    import streamlit as st

    from components.generation_card import card_grid

    st.session_state["my_generations"] = ids  # the generations this tab submitted
    st.session_state["cards_shown"] = max(len(ids), 1)  # as if "Show older" had been pressed until all show
    if ids:
        # The fragment's own time, without AppTest's parsing of the result: what a real fragment tick costs.
        started = time.perf_counter()
        card_grid(conn)
        st.session_state.setdefault("bench_fragment_s", []).append(time.perf_counter() - started)


def _running_store(data_dir: Path, cards: int) -> Store:
    """`cards` generations still running, as the app records them right after a create."""
    store = Store(data_dir)
    account = account_of(DEMO_KEY)
    for i in range(cards):
        body = {
            "model": "veo2",
            "prompt": f"Running generation number {i}, a slow pan over a misty valley",
            "duration": 5,
            "aspect_ratio": "16:9",
            "enhance_prompt": True,
        }
        store.add(Answer(f"running-{i}:veo2", Status.QUEUED, "queued"), request=body, server=DEMO_SERVER, account=account)
    return store


def _finished_store(work: Path, cards: int) -> Store:
    store = fill_history(work / "ui-cards", cards, video=sample_clip(work), seed=11, all_completed=True)
    for record in store.records():
        copy = store.videos_dir / video_filename(record.id)
        shutil.copyfile(sample_clip(work), copy)
        store.set_video_path(record.id, copy)
    return store


def _timed(conn, card_ids: list[str], expect_videos: int, runs: int) -> tuple[list[float], list[float]]:
    at = AppTest.from_function(_cards_script, kwargs={"conn": conn, "ids": card_ids}, default_timeout=60)
    timed_run(at)  # warm-up
    if len(at.get("video")) != expect_videos:
        raise RuntimeError(f"expected {expect_videos} videos, the script drew {len(at.get('video'))}")
    times = [timed_run(at) for _ in range(runs)]
    return times, at.session_state["bench_fragment_s"][1:] if card_ids else []


def cards_runs(work: Path, cards: int, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Run times (whole script, card_grid call) for no cards, `cards` running and `cards` finished."""
    running = _CardsConnection(_running_store(work / "ui-running", cards))
    finished = _CardsConnection(_finished_store(work, cards))
    return {
        "empty": _timed(running, [], 0, runs),
        "running": _timed(running, [r.id for r in running.pending()], 0, runs),
        "finished": _timed(finished, [r.id for r in finished.store.records()], cards, runs),
    }


def run(quick: bool, work: Path) -> Section:
    sizes, runs = ((100, 1_000), 2) if quick else (SIZES, RUNS)
    section = Section("ui")
    history: dict[int, float] = {}
    details: dict = {"runs_per_size": runs, "history": {}}
    for rows in sizes:
        first, times = history_runs(history_dir(work, rows, work / f"ui-history-{rows}"), rows, runs)
        history[rows] = median(times)
        details["history"][rows] = {"first_run_s": first, "runs_s": times, "median_s": history[rows]}
    measured = cards_runs(work, CARDS, runs)
    details["cards"] = {"cards": CARDS, **{name: {"runs_s": t, "card_grid_call_s": inner} for name, (t, inner) in measured.items()}}
    section.details = details

    previous = None
    for rows in sizes:
        row = Row("ui", f"History full run, {rows:,} rows", history[rows], "s")
        if previous is not None:
            row.baseline, row.baseline_label = history[previous], f"{previous:,} rows"
            row.ratio, row.ratio_label = ratio(history[rows], history[previous]), f"{rows // previous}× rows"
        if rows == 10_000:
            row.target, row.passed = f"≤ {HISTORY_TARGET_S:g} s", history[rows] <= HISTORY_TARGET_S
        section.rows.append(row)
        previous = rows
    if 1_000 in history and 10_000 in history:
        growth = history[10_000] / history[1_000]
        section.rows.append(Row("ui", "History growth 1k→10k rows", growth, "×", target="≤ 10× (linear)", passed=growth <= 10))
    empty_s = median(measured["empty"][0])
    tick_s, tick_inner = median(measured["running"][0]), median(measured["running"][1])
    page_s = median(measured["finished"][0])
    section.rows += [
        Row(
            "ui",
            f"Generate fragment tick, {CARDS} running cards",
            tick_s * 1000,
            "ms",
            empty_s * 1000,
            "empty script",
            ratio(tick_s, empty_s),
            "×empty",
            f"≤ {FRAGMENT_TARGET_S * 1000:g} ms",
            tick_s <= FRAGMENT_TARGET_S,
        ),
        Row(
            "ui",
            "  of which the card_grid call (info)",
            tick_inner * 1000,
            "ms",
            tick_s * 1000,
            "whole run",
            ratio(tick_inner, tick_s),
            "share",
        ),
        Row(
            "ui",
            f"Generate cards, {CARDS} finished with videos (page run, no tick; info)",
            page_s * 1000,
            "ms",
            empty_s * 1000,
            "empty script",
            ratio(page_s, empty_s),
            "×empty",
        ),
    ]
    return section
