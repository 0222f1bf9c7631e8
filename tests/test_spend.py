"""Spend: totals per day and model, an estimate from this history only, and a budget that refuses what it cannot pay."""

from __future__ import annotations

import pytest

from tests.test_app import PROMPT, run, seed_history, submit
from videogen import history, spend
from videogen.generation import Generation, Status
from videogen.store import Store


def finished(store: Store, gen_id: str, request: dict, credits: float, *, server: str = "s", account: str = "") -> None:
    store.add(Generation(gen_id, Status.QUEUED), request=request, server=server, account=account)
    store.apply(Generation(gen_id, Status.COMPLETED, video_url="https://cdn.example/v.mp4", credits_used=credits))


VEO = {"model": "veo2", "prompt": "p", "duration": 5}


def test_an_estimate_is_the_median_of_the_same_model_duration_and_resolution(store):
    for i, credits in enumerate([100_000, 120_000, 140_000]):
        finished(store, f"g{i}", VEO, credits)
    finished(store, "long", {**VEO, "duration": 8}, 999_999)
    finished(store, "sora", {"model": "openai/sora-2-t2v", "prompt": "p", "duration": 5}, 5)
    finished(store, "demo", VEO, 1, server="demo")  # another server's price says nothing of this one's
    estimate = spend.estimate(store.costs("veo2", "s"), VEO)
    assert estimate == spend.Estimate(120_000, 3)
    assert spend.estimate(store.costs("veo2", "s"), {**VEO, "duration": "8"}).credits == 999_999  # "8" and 8: one duration
    assert spend.estimate(store.costs("veo2", "s"), {**VEO, "duration": 6}) is None  # never invented


def test_totals_per_day_and_model_of_the_rows_shown(store):
    finished(store, "a", VEO, 100)
    finished(store, "b", VEO, 50)
    finished(store, "c", {"model": "openai/sora-2-t2v", "prompt": "p"}, 7)
    store.add(Generation("running", Status.QUEUED), request=VEO, server="s")
    totals = spend.totals(history.frame(store.table_rows()))
    assert sorted(zip(totals["model"], totals["credits"], totals["generations"])) == [
        ("openai/sora-2-t2v", 7.0, 1), ("veo2", 150.0, 2),
    ]
    assert spend.totals(history.frame(store.table_rows())[lambda df: df["id"] == "running"]).empty


@pytest.mark.parametrize(("limit", "spent", "cost", "words"), [
    (1_000, 1_000, None, "is spent"),
    (1_000, 900, 200, "would cost about 200 credits and 100 of the budget of 1,000 are left"),
    (1_000, 900, 100, None),
    (1_000, 900, None, None),  # no estimate yet: it may go, and the form says there is none
])
def test_a_budget_refuses_what_it_cannot_pay(limit, spent, cost, words):
    refusal = spend.Budget(limit, spent).refuses(cost)
    assert (refusal is None) if words is None else (words in refusal and "Nothing was sent" in refusal)


def test_the_form_names_the_estimate_and_a_request_over_budget_is_not_sent(app, sim, data_dir, monkeypatch):
    store = Store(data_dir)
    for i in range(3):
        finished(store, f"past{i}", {**VEO, "aspect_ratio": "16:9", "enhance_prompt": True}, 120_000, server=sim.url)
    monkeypatch.setenv("PLAYGROUND_BUDGET_CREDITS", "100000")
    at = run(app)
    assert "About 120,000 credits (the median of 3 like it here)" in " ".join(c.value for c in at.caption)
    at = submit(at, PROMPT, duration=5)
    assert sim.count("create") == 0
    assert "would cost about 120,000 credits and 100,000 of the budget of 100,000 are left" in " ".join(
        e.value for e in at.error).replace("\\", "")
    # A duration nothing has cost yet: no estimate, so it goes.
    at = submit(at, PROMPT, duration=7)
    assert sim.count("create") == 1


def test_no_estimate_yet_is_said_plainly_and_the_sidebar_takes_a_budget(app, data_dir):
    at = run(app)
    assert "no estimate yet" in " ".join(c.value for c in at.caption)
    at.sidebar.number_input(key="budget_credits").set_value(500_000)
    at = run(at)
    (progress,) = at.get("progress")
    assert progress.proto.text == "0 of 500,000 credits spent"
    assert "500,000 of 500,000 budget credits left" in " ".join(c.value for c in at.caption)


def test_history_shows_spend_for_the_rows_shown(app, data_dir):
    seed_history(data_dir)
    app.switch_page("pages/history.py")
    at = run(app)
    assert any("Spend of these 4 generations: 4 credits" in e.label for e in at.expander)
