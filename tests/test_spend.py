"""Spend: totals per day and model, an estimate from this history only, and a budget that refuses what it cannot pay."""

from __future__ import annotations

import pytest

from tests.apptest import PROMPT, run, seed_history, submit
from videogen import history, spend
from videogen.api import Answer, Status
from videogen.store import Spending, Store


def finished(store: Store, gen_id: str, request: dict, credits: float, *, server: str = "s", account: str = "") -> None:
    store.add(Answer(gen_id, Status.QUEUED), request=request, server=server, account=account)
    store.apply(Answer(gen_id, Status.COMPLETED, video_url="https://cdn.example/v.mp4", credits_used=credits))


VEO = {"model": "veo2", "prompt": "p", "duration": 5}


def test_an_estimate_is_the_median_of_the_same_model_duration_and_resolution(store):
    for i, credits in enumerate([100_000, 120_000, 140_000]):
        finished(store, f"g{i}", VEO, credits)
    finished(store, "long", {**VEO, "duration": 8}, 999_999)
    finished(store, "sora", {"model": "openai/sora-2-t2v", "prompt": "p", "duration": 5}, 5)
    finished(store, "demo", VEO, 1, server="demo")  # another server's price says nothing of this one's
    estimate = spend.estimate(store.costs("veo2", "s"), VEO)
    assert estimate == spend.CostEstimate(120_000, 3)
    assert spend.estimate(store.costs("veo2", "s"), {**VEO, "duration": "8"}).credits == 999_999  # "8" and 8: one duration
    assert spend.estimate(store.costs("veo2", "s"), {**VEO, "duration": 6}) is None  # never invented


def test_totals_per_day_and_model_of_the_rows_shown(store):
    finished(store, "a", VEO, 100)
    finished(store, "b", VEO, 50)
    finished(store, "c", {"model": "openai/sora-2-t2v", "prompt": "p"}, 7)
    store.add(Answer("running", Status.QUEUED), request=VEO, server="s")
    totals = spend.totals(history.frame(store.table_rows()))
    assert sorted(zip(totals["model"], totals["credits"], totals["generations"])) == [
        ("openai/sora-2-t2v", 7.0, 1),
        ("veo2", 150.0, 2),
    ]
    assert spend.totals(history.frame(store.table_rows())[lambda df: df["id"] == "running"]).empty


@pytest.mark.parametrize(
    ("limit", "spent", "unpriced", "cost", "words"),
    [
        (1_000, 1_000, 0, None, "is spent"),
        (1_000, 900, 0, 200, "would cost about 200 credits ($0.0001) and 100 credits ($0.00005) of the budget of 1,000"),
        (1_000, 900, 0, 100, None),
        (1_000, 900, 0, None, None),  # no price known and nothing else unpriced running: it may go
        (1_000, 900, 1, None, "no known price, and another generation of unknown price is still running"),
        (1_000, 900, 1, 50, None),  # a priced request is not held up by an unpriced one
    ],
)
def test_a_budget_refuses_what_it_cannot_pay(limit, spent, unpriced, cost, words):
    spending = Spending(reported=spent, reserved=0, unpriced=unpriced)
    if words is None:
        spend.Budget(limit).check(cost, spending)
        return
    with pytest.raises(spend.OverBudgetError) as refused:
        spend.Budget(limit).check(cost, spending)
    assert words in refused.value.message and "Nothing was sent" in refused.value.message


def test_the_form_names_the_estimate_and_a_request_over_budget_is_not_sent(app, sim, data_dir, monkeypatch):
    store = Store(data_dir)
    for i in range(3):
        finished(store, f"past{i}", {**VEO, "aspect_ratio": "16:9", "enhance_prompt": True}, 120_000, server=sim.url)
    monkeypatch.setenv("PLAYGROUND_BUDGET_USD", "2.50")
    at = run(app)
    caption = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "$1.95: 5 s × $0.39/s" in caption  # the price list's figure, and beside it this history's
    assert "this history: about 120,000 credits ($0.06), median of 3" in caption
    assert "5,000,000 credits ($2.50) of the budget's 5,000,000 credits ($2.50) left" in caption
    at = submit(at, PROMPT, duration=8)  # $3.12 by the price list
    assert sim.count("create") == 0
    assert (
        "would cost about 6,240,000 credits ($3.12) and 5,000,000 credits ($2.50) of the budget of 5,000,000 credits ($2.50) are left"
    ) in " ".join(e.value for e in at.error).replace("\\", "")
    at = submit(at, PROMPT, duration=5)  # $1.95 fits
    assert sim.count("create") == 1
    at = submit(at, PROMPT, duration=6)  # $2.34, and $0.55 is left: the first one's cost counts at once
    assert sim.count("create") == 1


def test_no_estimate_yet_is_said_plainly_and_the_sidebar_takes_a_budget(app, data_dir):
    at = run(app)
    assert "no estimate yet" in " ".join(c.value for c in at.caption)
    at.sidebar.number_input(key="budget_usd").set_value(0.25)  # dollars: 500,000 credits
    at = run(at)
    (progress,) = at.get("progress")
    assert progress.proto.text.replace("\\", "") == "0 credits ($0.00) of 500,000 credits ($0.25) spent"
    assert "500,000 credits ($0.25) of the budget's 500,000 credits ($0.25) left" in " ".join(c.value for c in at.caption).replace("\\", "")


def test_history_shows_spend_for_the_rows_shown(app, data_dir):
    seed_history(data_dir)
    app.switch_page("pages/history.py")
    at = run(app)
    # The failed one reported 1 credit, but a failed generation is billed nothing: its hold is rolled back.
    assert any("Spend of these 4 generations: 3 credits ($0.000002)" in e.label.replace("\\", "") for e in at.expander)
    assert not at.table  # closed: nothing of it is drawn
    from components import history_table

    at.session_state[history_table.SPEND_PANEL] = True
    at = run(at)
    (table,) = at.table
    assert any(b.label == "Export spend CSV" for b in at.download_button)
