"""What the browser tests do to the real app: open it, act and wait for the run that follows, shared flows, screenshots.

An action that makes the app rerun sits in `with rerun(page):` (devtools/browser.py), which returns once
the run it asked for has finished; what the run shows is then asserted with Playwright's `expect`, which
waits for it too.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from playwright.sync_api import expect

from devtools.app_server import ROOT
from devtools.browser import rerun, wait_for_first_run, wait_until_idle
from videogen import catalog

E2E_JOB_SECONDS = 2.0
ARTIFACTS = ROOT / "test-artifacts"
BOAT = "A paper boat drifting down a rainy street, close up"

# Nothing on the page is moving: fonts loaded, no toast, no video seeking, no finite animation or transition
# running, and every element where it was a frame ago (a resize is laid out over a few frames).
_STILL = """() => {
    const moving = document.getAnimations().some(a => a.playState === "running"
        && Number.isFinite(a.effect ? a.effect.getComputedTiming().endTime : Infinity));
    const seeking = [...document.querySelectorAll("video")].some(v => v.seeking);
    const toast = document.querySelector("[data-testid='stToast']");
    const layout = JSON.stringify([...document.querySelectorAll("[data-testid]")].map(e => {
        const r = e.getBoundingClientRect();
        return [r.x, r.y, r.width, r.height];
    }));
    const unchanged = layout === window.__lastLayout;
    window.__lastLayout = layout;
    return unchanged && document.fonts.status === "loaded" && !moving && !seeking && !toast;
}"""


def open_app(page, url: str) -> None:
    page.goto(url)
    wait_for_first_run(page)


def reload(page) -> None:
    page.reload()
    wait_for_first_run(page)


def screenshot(page, name: str) -> Path:
    """Save to test-artifacts/; with UPDATE_SCREENSHOTS=1 (make screenshots) also to docs/screenshots/ for the README."""
    ARTIFACTS.mkdir(exist_ok=True)
    wait_until_idle(page)
    # Toasts would cover the page's top right; they leave on their own after a few seconds.
    page.wait_for_function(_STILL, timeout=20_000)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        (docs / f"{name}.png").write_bytes(path.read_bytes())
    return path


def show_history_table(page) -> None:
    """History as its table (it opens as the Gallery, `?view=Table` or the View choice shows the table)."""
    wait_until_idle(page)
    if not page.locator("[data-testid='stDataFrame']").count():
        with rerun(page):
            page.get_by_test_id("stMainBlockContainer").get_by_text("Table", exact=True).click()
    page.locator("[data-testid='stDataFrame']").wait_for()


def tick_history_row(page, row: int, *, selected: int) -> None:
    """Tick row `row` (0 is the newest) of History's table and wait until the page shows `selected` rows chosen.

    The table is drawn on a canvas, so the click goes to the checkbox's position. The grid keeps an
    accessible copy of its rows in the DOM: waiting for it means the click cannot land before the grid
    can take it, and its aria-selected confirms the click was taken before the page's answer is awaited.
    """
    show_history_table(page)
    table = page.locator("[data-testid='stDataFrame']")
    line = table.locator("[role=row]").nth(row + 1)  # the first is the header
    line.wait_for(state="attached")
    wait_until_idle(page)
    with rerun(page):
        table.click(position={"x": 12, "y": 55 + 35 * row})
        expect(line).to_have_attribute("aria-selected", "true")
    expect(page.locator(".st-key-history-selection")).to_contain_text(f"{selected} selected")


def generate(page, prompt: str, *, ratio: str | None = None, duration: int | None = None) -> None:
    """Fill the Generate form and press Generate; returns when the run that sends it (and any the duration's
    change asked for) has finished."""
    with rerun(page):
        page.get_by_label("Prompt", exact=True).fill(prompt)
        if ratio:
            page.get_by_role("radio", name=ratio).click()
        if duration:
            page.get_by_role("radio", name=str(duration), exact=True).click()
        page.get_by_role("button", name="Generate").click()


def wait_for_videos(page, count: int, timeout: float = 45_000) -> None:
    """Until at least `count` players are on the page and each has its video's metadata."""
    page.wait_for_function(
        f"""() => {{
            const vs = document.querySelectorAll("[data-testid='stVideo']");
            return vs.length >= {count} && [...vs].every(v => v.readyState >= 1);
        }}""",
        timeout=timeout,
    )


def export_csv(page) -> list[dict]:
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    return list(csv.DictReader(io.StringIO(download.value.path().read_text())))


def export_json(page) -> list[dict]:
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON").click()
    return json.loads(download.value.path().read_text(encoding="utf-8"))


def make_seed_batch(page, count: int = 4, *, prompt: str = BOAT) -> None:
    """Variants on, varying the seed, `count` of them, and Generate: the confirmation is then open."""
    page.get_by_label("Prompt", exact=True).fill(prompt)
    with rerun(page):
        page.get_by_text("Variants", exact=True).click()
    seeds = page.get_by_role("radio", name="Seeds")
    if seeds.get_attribute("aria-checked") != "true":  # the first setting offered is chosen already
        with rerun(page):
            seeds.click()
    slider = page.get_by_role("slider", name="How many seeds")
    if int(slider.input_value()) != count:
        with rerun(page):
            while int(slider.input_value()) != count:
                slider.press("ArrowLeft" if int(slider.input_value()) > count else "ArrowRight")
    with rerun(page):
        page.get_by_role("button", name="Generate").click()


def simple_model(kind: str, media_name: str) -> str:
    """A model of `kind` whose only required inputs are the prompt and one media field (an upload, for images)."""
    for model in sorted(catalog.models().values(), key=lambda m: m.id):
        required = {p.name for p in model.params if p.required}
        media = [p for p in model.params if p.name == media_name]
        if model.kind == kind and required <= {"prompt", media_name} and media and not media[0].is_list:
            if kind != "image-to-video" or media[0].accepts_base64:
                return model.id
    raise LookupError(kind)
