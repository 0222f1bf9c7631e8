"""Blind votes and the Leaderboard in a real browser: a Models batch voted on blind in Compare and judged pair by
pair, and the Leaderboard counting each vote."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from devtools.browser import rerun
from tests.e2e.browser import export_csv, open_app, screenshot
from videogen import catalog

pytestmark = pytest.mark.e2e

MODELS = ("veo2", "kling-video/v1.6/standard/text-to-video", "alibaba/wan-2-6-t2v")
NAMES = [catalog.name_of(m) for m in MODELS]
PROMPT = "A lighthouse beam sweeping over a stormy sea at night"
COMPARED = ".st-key-compare-videos video"
BATCH_VIDEOS = "[class*='st-key-batch-'] [data-testid='stVideo']"


def make_models_batch(page) -> None:
    """Variants on, sweeping Models: Veo 2 (the form's) and two more, sent once confirmed; until all three play."""
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    with rerun(page):
        page.get_by_text("Variants", exact=True).click()
    with rerun(page):
        page.get_by_role("radio", name="Models").click()
    models = page.get_by_role("combobox", name="Models")
    for name in NAMES[1:]:
        models.click()
        page.keyboard.type(name)
        with rerun(page):
            page.get_by_role("option", name=re.compile(re.escape(name) + " · text to video")).first.click()
        page.keyboard.press("Escape")
    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("3 paid generations")
    with rerun(page):
        dialog.get_by_role("button", name="Create 3").click()
    expect(page.locator(BATCH_VIDEOS)).to_have_count(3, timeout=60_000)


def wait_for_compared(page, count: int) -> None:
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{COMPARED}')].filter(v => v.readyState >= 2).length === {count}",
        timeout=30_000,
    )


def go_to(page, name: str) -> None:
    with rerun(page):
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=name).click()


def votes_per_model(page) -> dict[str, int]:
    return {row["model"]: int(row["votes"]) for row in export_csv(page)}


def test_a_blind_vote_in_compare_and_judge_blind_rank_the_models(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    make_models_batch(page)
    batch = page.locator("[class*='st-key-batch-']")
    expect(batch.get_by_role("link", name="Judge blind")).to_be_visible()  # a Models batch

    with rerun(page):
        batch.get_by_role("link", name="Open in Compare").click()
    wait_for_compared(page, 3)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text(NAMES[0])  # not blind yet: the picker and the headers name them
    with rerun(page):
        page.get_by_text("Blind", exact=True).click()
    expect(page).to_have_url(re.compile(r"blind=1"))
    wait_for_compared(page, 3)
    expect(main.get_by_role("button", name="B is best")).to_be_visible()
    ids = unquote(re.search(r"ids=([^&]+)", page.url).group(1)).split(",")
    html = main.evaluate("e => e.outerHTML")  # the text, and every attribute: class names from keys, video addresses
    assert not [word for word in (*NAMES, *MODELS, *ids) if word in html]
    assert not page.locator("[data-testid='stTable']").count()  # no parameters before the vote
    screenshot(page, "blind-vote")

    with rerun(page):
        main.get_by_role("button", name="B is best").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Vote recorded")
    for name in NAMES:  # revealed: each video's header names its model
        expect(main).to_contain_text(name)

    go_to(page, "Leaderboard")
    expect(main).to_contain_text("3 models from 1 vote")
    assert votes_per_model(page) == dict.fromkeys(MODELS, 1)

    # Judge blind from the batch: every pair of the three, one after another.
    go_to(page, "Generate")
    with rerun(page):
        page.locator("[class*='st-key-batch-']").get_by_role("link", name="Judge blind").click()
    for pair in (1, 2, 3):
        expect(main).to_contain_text(f"Pair {pair} of 3")
        wait_for_compared(page, 2)
        assert not [name for name in NAMES if name in main.inner_text()]
        with rerun(page):
            main.get_by_role("button", name="A is better").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Vote recorded")
        with rerun(page):
            main.get_by_role("button", name="Finish" if pair == 3 else "Next pair").click()
    expect(main).to_contain_text("All 3 pairs seen: 3 votes recorded.")

    go_to(page, "Leaderboard")
    expect(main).to_contain_text("3 models from 4 votes")
    assert votes_per_model(page) == dict.fromkeys(MODELS, 3)
    expect(main).to_contain_text("leads")
    screenshot(page, "leaderboard")
