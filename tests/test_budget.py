"""The budget before sending: what is left, what would be refused, and a configured sum in credits."""

from __future__ import annotations

import pytest

from videogen import spend
from videogen.settings import Money
from videogen.spend import Budget, Standing
from videogen.store import Spending

VEO = {"model": "veo2", "prompt": "a lighthouse in a storm", "duration": 5}
CHARGE = 3_900_000  # the simulator's charge for a 5 s veo2 clip


def test_no_budget_stands_for_nothing():
    assert Budget().standing(None, Spending(10, 0, 3)) == Standing(left=None, refusal=None, one_at_a_time=False)


def test_what_is_left_of_the_keys_budget_never_goes_below_nothing():
    assert Budget(limit=1_000).standing(100, Spending(400, 200, 0)).left == 400
    assert Budget(limit=1_000).standing(100, Spending(1_200, 0, 0)).left == 0
    assert Budget(per_person=1_000).standing(100, Spending(400, 0, 0), Spending(0, 0, 0)).left is None


def test_the_standing_names_the_same_refusal_the_send_would_raise():
    budget, key = Budget(limit=1_000), Spending(900, 0, 0)
    with pytest.raises(spend.OverBudgetError) as refused:
        budget.check(200, key, what="These 2 generations")
    standing = budget.standing(200, key, what="These 2 generations")
    assert standing.refusal == refused.value.message and standing.refusal.startswith("These 2 generations would cost")
    assert budget.standing(100, key).refusal is None


def test_a_persons_budget_refuses_for_them_alone():
    budget = Budget(per_person=1_000)
    assert "your budget" in budget.standing(200, Spending(0, 0, 0), Spending(900, 0, 0)).refusal
    assert budget.standing(200, Spending(5_000, 0, 0), None).refusal is None  # nobody signed in


def test_a_request_of_unknown_price_goes_one_at_a_time_unless_a_ceiling_counts_it():
    assert Budget(limit=1_000).standing(None, Spending(0, 0, 0)).one_at_a_time
    assert not Budget(limit=1_000, unpriced_ceiling=50).standing(None, Spending(0, 0, 0)).one_at_a_time
    assert not Budget(limit=1_000).standing(20, Spending(0, 0, 0)).one_at_a_time


def test_a_configured_sum_in_credits():
    assert spend.in_credits(None) is None
    assert spend.in_credits(Money(900, "credits")) == 900
    assert spend.in_credits(Money(2.5, "usd")) == 2.5 * spend.CREDITS_PER_USD


def test_the_connection_counts_this_keys_and_this_persons_spending(sim, conn):
    budget = Budget(limit=10 * CHARGE, per_person=1.5 * CHARGE)
    conn.submit(VEO, owner="ana", budget=budget)
    assert conn.budget_standing(Budget(), CHARGE, owner="ana") == Standing()
    standing = conn.budget_standing(budget, CHARGE, owner="ana", what="This one")
    assert standing.left == 9 * CHARGE
    assert standing.refusal.startswith("This one would cost") and "your budget" in standing.refusal
    assert conn.budget_standing(budget, CHARGE, owner="ben").refusal is None
