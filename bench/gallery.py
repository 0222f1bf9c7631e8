"""History's Gallery at 10,000 rows: its page run beside the table's, the bytes of a page of tiles, and the
time to the first tiles in Chromium.

The data dir holds 10,000 finished rows (bench.common.history_dir); the newest
48, one page of tiles, each get their own saved copy of the demo clip with its
poster and filmstrip, as the poller leaves them. With AppTest (in this process):
after an untimed run of each view, the median of RUNS full History runs in each;
and the gallery's own share of a run (`gallery.show`: one page of records, the
tiles' images and the component), timed around the call. The bytes are what the
48 tiles' images weigh in the page's message (data URLs). In Chromium: the app
under `streamlit run`, History opened in a new tab of a browser that has opened it
once (the server warm, the hashed scripts in the browser's cache), until the first
tile's poster has loaded; beside it, the table's first rows (`?view=Table`) the same
way, the same page in a browser that never opened the app (every script fetched too),
and a bare Streamlit page's first element (a title and a line of text, nothing of the
app) served the same way: the floor under both.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import gallery, session
from videogen.polling import video_filename
from videogen.posters import make_posters, poster_files
from videogen.store import Store

from .common import ROOT, app_environment, history_dir, median, sample_clip, timed_run
from .report import Row, Section, ratio

ROWS = 10_000
TILES = gallery.PAGE_SIZE
RUNS = 7
RUN_TARGET_S = 0.150
RATIO_TARGET = 2.0
BYTES_TARGET = 2_000_000
FIRST_TILE_TARGET_S = 1.5
LOAD_TIMEOUT_MS = 60_000
_CLEARED_ENV = ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS")


def _with_posters(data_dir: Path, work: Path) -> None:
    """The finished ones among the newest TILES rows (the first page), each with its own saved video, poster and
    filmstrip in the store's videos dir."""
    store = Store(data_dir)
    clip = sample_clip(work)
    made = poster_files(work / "gallery-clip" / clip.name)
    if not made.ready:
        made.video.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, made.video)
        make_posters(made.video)
    store.videos_dir.mkdir(parents=True, exist_ok=True)
    newest = [row.id for row in store.table_rows()[:TILES] if row.status == "completed"]
    for gen_id in newest:
        video = store.videos_dir / video_filename(gen_id)
        shutil.copyfile(made.video, video)
        files = poster_files(video)
        shutil.copyfile(made.poster, files.poster)
        shutil.copyfile(made.strip, files.strip)
        store.set_video_path(gen_id, video)


def page_runs(data_dir: Path, runs: int) -> dict:
    """Run times of History in each view, the gallery's own share, and the bytes of the tiles' images."""
    shares: list[float] = []
    show = gallery.show

    def timed_show(*args, **kwargs):
        started = time.perf_counter()
        try:
            return show(*args, **kwargs)
        finally:
            shares.append(time.perf_counter() - started)

    gallery.show = timed_show  # pages/history.py calls it through the module
    try:
        with app_environment(PLAYGROUND_DATA_DIR=str(data_dir), PLAYGROUND_DEMO_SECONDS="45", **dict.fromkeys(_CLEARED_ENV)):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            timed_run(at)  # the Generate page, which opens the demo connection
            at.switch_page("pages/history.py")
            first = timed_run(at)
            tiles = _tiles(at)
            if len(tiles) != TILES or any(t["strip"] is None for t in tiles if t["status_key"] == "completed"):
                raise RuntimeError(f"the gallery showed {len(tiles)} tiles, not {TILES} with posters where finished")
            shares.clear()
            gallery_s = [timed_run(at) for _ in range(runs)]
            gallery_share = list(shares)
            at.session_state[session.HISTORY_VIEW] = "Table"
            timed_run(at)
            if not at.dataframe or len(at.dataframe[0].value) != ROWS:
                raise RuntimeError("the table did not show every row")
            table_s = [timed_run(at) for _ in range(runs)]
    finally:
        gallery.show = show
    return {
        "first_gallery_run_s": first,
        "gallery_runs_s": gallery_s,
        "gallery_show_s": gallery_share,
        "table_runs_s": table_s,
        "tile_image_bytes": sum(len(t["poster"]) + len(t["strip"] or "") for t in tiles),
    }


def _tiles(at: AppTest) -> list[dict]:
    import json

    def data(key: str) -> dict:
        (element,) = [e for e in at.get("bidi_component") if e.proto.id.endswith(f"-{key}")]
        return json.loads(element.proto.json or element.proto.mixed.json)

    strips = data(f"{session.GALLERY}-strips")["strips"]  # the filmstrips come in an element of their own
    return [{**t, "strip": strips.get(t["id"])} for t in data(session.GALLERY)["tiles"]]


def first_tiles(data_dir: Path, log: Path) -> dict:
    """Seconds from opening History in a new tab until the first tile's poster has loaded (the server warm)."""
    from playwright.sync_api import sync_playwright

    from devtools.app_server import AppServer
    from devtools.browser import launch, new_context

    # The tiles are in the component's shadow root, which document.querySelector does not enter. The time is the
    # page's own clock, from the navigation's start.
    loaded = """() => {
        for (const host of document.querySelectorAll("*")) {
            const img = host.shadowRoot && host.shadowRoot.querySelector(".tile img.poster");
            if (img && img.complete && img.naturalWidth > 0) return performance.now() / 1000;
        }
        return false;
    }"""
    # For comparison: the table's first rows, drawn on its canvas once the grid has laid them out.
    table_drawn = """() => document.querySelector("[data-testid='stDataFrame'] [role=row]") ? performance.now() / 1000 : false"""
    bare = bare_page(log.parent)
    server = AppServer({"PLAYGROUND_DEMO_SECONDS": "45"}, data_dir, log=log).start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                # A new tab of a browser that has opened the app before: its hashed scripts come from the
                # browser's cache, as they do for a person opening History in another tab.
                context = new_context(browser, viewport={"width": 1280, "height": 1000})
                times, table = [], []
                for view, seen, into in [("", loaded, times)] * 3 + [("?view=Table", table_drawn, table)] * 2:
                    page = context.new_page()
                    page.goto(f"{server.url}/history{view}")  # the first also warms the server and the cache
                    into.append(page.wait_for_function(seen, timeout=LOAD_TIMEOUT_MS, polling="raf").json_value())
                    page.close()
                context.close()
                # A browser that never saw the app: every script is fetched from the server too.
                fresh = []
                for _ in range(2):
                    page = new_context(browser, viewport={"width": 1280, "height": 1000}).new_page()
                    page.goto(f"{server.url}/history")
                    fresh.append(page.wait_for_function(loaded, timeout=LOAD_TIMEOUT_MS, polling="raf").json_value())
                    page.context.close()
            finally:
                browser.close()
    finally:
        server.stop()
    return {"cold_s": times[0], "warm_s": times[1:], "table_first_rows_s": table, "fresh_profile_s": fresh, "bare_page_s": bare}


BARE_PAGE = 'import streamlit as st\n\nst.title("Bare")\nst.write("A page with nothing of the app.")\n'


def bare_page(work: Path) -> list[float]:
    """Seconds from opening a bare Streamlit page until its text shows: Streamlit's own start-up in a browser."""
    from playwright.sync_api import sync_playwright

    from devtools.app_server import AppServer
    from devtools.browser import launch, new_context

    script = work / "bare_page.py"
    script.write_text(BARE_PAGE)
    shown = """() => document.querySelector("[data-testid='stMarkdown']") ? performance.now() / 1000 : false"""
    server = AppServer({}, work / "bare-data", log=work / "bare-streamlit.log", script=str(script)).start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                context = new_context(browser, viewport={"width": 1280, "height": 1000})  # new tabs, as History's
                times = []
                for _ in range(3):
                    page = context.new_page()
                    page.goto(server.url)
                    times.append(page.wait_for_function(shown, timeout=LOAD_TIMEOUT_MS, polling="raf").json_value())
                    page.close()
                context.close()
            finally:
                browser.close()
    finally:
        server.stop()
    return times[1:]  # the first warms the server


def run(quick: bool, work: Path) -> Section:
    runs = 2 if quick else RUNS
    data_dir = history_dir(work, ROWS, work / "gallery-history")
    _with_posters(data_dir, work)
    measured = page_runs(data_dir, runs)
    browser = first_tiles(data_dir, work / "gallery-streamlit.log")
    section = Section("gallery", details={"rows": ROWS, "tiles": TILES, "runs": runs, **measured, "chromium": browser})
    gallery_s, table_s = median(measured["gallery_runs_s"]), median(measured["table_runs_s"])
    share_s = median(measured["gallery_show_s"])
    first_tile_s, table_rows_s = median(browser["warm_s"]), median(browser["table_first_rows_s"])
    bare_s = median(browser["bare_page_s"])
    kb = measured["tile_image_bytes"] / 1000
    section.rows = [
        Row(
            "gallery",
            f"History Gallery run, {ROWS:,} rows, {TILES} tiles",
            gallery_s * 1000,
            "ms",
            table_s * 1000,
            "Table run",
            ratio(gallery_s, table_s),
            "×Table",
            f"≤ {RUN_TARGET_S * 1000:g} ms, ≤ {RATIO_TARGET:g}× Table",
            gallery_s <= RUN_TARGET_S and gallery_s <= RATIO_TARGET * table_s,
        ),
        Row(
            "gallery",
            f"  of which the gallery itself ({TILES} tiles; info)",
            share_s * 1000,
            "ms",
            gallery_s * 1000,
            "whole run",
            ratio(share_s, gallery_s),
            "share",
        ),
        Row(
            "gallery",
            f"Images of {TILES} tiles (data URLs)",
            kb,
            "kB",
            target=f"≤ {BYTES_TARGET / 1e6:g} MB",
            passed=measured["tile_image_bytes"] <= BYTES_TARGET,
        ),
        Row(
            "gallery",
            f"First tile in Chromium (a new tab), {ROWS:,} rows",
            first_tile_s,
            "s",
            table_rows_s,
            "Table's first rows",
            ratio(first_tile_s, table_rows_s),
            "×Table",
            f"≤ {FIRST_TILE_TARGET_S:g} s",
            first_tile_s <= FIRST_TILE_TARGET_S,
        ),
        Row(
            "gallery",
            "  in a browser that never opened the app (info)",
            median(browser["fresh_profile_s"]),
            "s",
            first_tile_s,
            "new tab",
            ratio(median(browser["fresh_profile_s"]), first_tile_s),
            "×new tab",
        ),
        Row(
            "gallery",
            "  over a bare Streamlit page's first text (info)",
            first_tile_s,
            "s",
            bare_s,
            "bare page",
            ratio(first_tile_s, bare_s),
            "×bare",
        ),
    ]
    return section
