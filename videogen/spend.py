"""What generations cost: totals, an estimate from this history, and a budget.

Credits come from the API itself: the create answer's `meta.usage` (or its
x-aimlapi-* headers), replaced by any later figure; a failed generation counts
0 (its hold is rolled back). $1 is 2,000,000 credits. Nothing here invents a
price: an estimate is the median of what this history's completed generations
of the same model, duration and resolution cost on the same server, and where
there are none it says so. A budget is checked and the request's price
reserved in one transaction (`Store.reserve`), so two tabs cannot pass it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .api import CREDITS_PER_USD, ApiError
from .pricing import dollars
from .settings import Money
from .store import Spending

__all__ = [
    "CREDITS_PER_USD",
    "Budget",
    "CostEstimate",
    "OverBudgetError",
    "Standing",
    "dollars",
    "estimate",
    "in_credits",
    "money",
    "totals",
    "usd",
]


@dataclass(frozen=True)
class CostEstimate:
    credits: float
    samples: int


def _key(request: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(request.get("model", "")), str(request.get("duration", "")).removesuffix(".0"), str(request.get("resolution", "")))


def estimate(costs: Iterable[tuple[Mapping[str, Any], float]], request: Mapping[str, Any]) -> CostEstimate | None:
    """The median credits of completed generations like `request` (model, duration, resolution); None if none.

    `costs`: (request, credits) of completed generations, as `Store.costs(model, server)` gives them.
    """
    wanted = _key(request)
    matching = [credits for past, credits in costs if _key(past) == wanted]
    return CostEstimate(statistics.median(matching), len(matching)) if matching else None


def totals(df: pd.DataFrame) -> pd.DataFrame:
    """Credits per day and model of the history table's rows (columns day, model, credits, generations, usd)."""
    rows = df[df["credits"].notna()]
    if rows.empty:
        return pd.DataFrame(
            {
                "day": pd.Series(dtype="object"),
                "model": pd.Series(dtype="object"),
                "credits": pd.Series(dtype="float"),
                "generations": pd.Series(dtype="int"),
                "usd": pd.Series(dtype="float"),
            }
        )
    days = rows["created"].dt.strftime("%Y-%m-%d")
    grouped = rows.assign(day=days).groupby(["day", "model"], as_index=False)
    sums = grouped.agg(credits=("credits", "sum"), generations=("id", "count")).astype({"credits": float})
    return sums.assign(usd=sums["credits"] / CREDITS_PER_USD)


def usd(credits: float) -> float:
    return credits / CREDITS_PER_USD


def in_credits(amount: Money | None) -> float | None:
    """A sum the deployment set (`settings.money`), in credits."""
    if amount is None:
        return None
    return amount.amount * (float(CREDITS_PER_USD) if amount.unit == "usd" else 1.0)


def money(credits: float | None) -> str:
    """Credits with their dollars beside them: "3,900,000 credits ($1.95)"."""
    if credits is None:
        return "–"
    return f"{credits:,.0f} credits ({dollars(usd(credits))})"


class OverBudgetError(ApiError):
    """Refused here, before sending: the request would take a budget past its limit. Nothing was sent."""


@dataclass(frozen=True)
class Standing:
    """Where a request (or a batch) stands against a budget before it is sent: what the page says beforehand.
    The send checks again, in the transaction that reserves its price (`Store.reserve`)."""

    left: float | None = None  # of the key's budget, never below 0; None: the key has no limit
    refusal: str | None = None  # why it may not be sent now; None: it may
    one_at_a_time: bool = False  # of unknown price, with no ceiling: it goes only while no other such request runs


@dataclass(frozen=True)
class Budget:
    """The limits a request must fit, in credits. Each is None where it is not set.

    `limit` is the key's (everything made with it), `per_person` each signed-in person's own. A request whose
    price nobody knows is counted at `unpriced_ceiling` where a deployment sets one; otherwise it goes only
    while nothing else of unknown price is pending, so the budget can be passed by one generation at most.
    """

    limit: float | None = None
    per_person: float | None = None
    unpriced_ceiling: float | None = None

    @property
    def is_set(self) -> bool:
        return self.limit is not None or self.per_person is not None

    def assumed(self, cost: float | None) -> float | None:
        """What a request is counted at: its expected cost, else the deployment's ceiling, else unknown."""
        return cost if cost is not None else self.unpriced_ceiling

    def check(self, cost: float | None, key: Spending, person: Spending | None = None, *, what: str = "This request") -> None:
        """Raise OverBudgetError when `what`, expected to cost `cost` credits (None: unknown), may not be sent."""
        for limit, spending, whose in ((self.limit, key, "the budget"), (self.per_person, person, "your budget")):
            if limit is None or spending is None:
                continue
            if refusal := _refusal(limit, spending, self.assumed(cost), whose, what):
                raise OverBudgetError(refusal)

    def standing(self, cost: float | None, key: Spending, person: Spending | None = None, *, what: str = "This request") -> Standing:
        """`check`, as a statement for the page rather than a refusal to send."""
        try:
            self.check(cost, key, person, what=what)
        except OverBudgetError as exc:
            refusal: str | None = exc.message
        else:
            refusal = None
        left = max(self.limit - key.total, 0) if self.limit is not None else None
        return Standing(left, refusal, one_at_a_time=self.is_set and cost is None and self.unpriced_ceiling is None)


def _refusal(limit: float, spending: Spending, cost: float | None, whose: str, what: str) -> str | None:
    left = limit - spending.total
    if left <= 0:
        return f"{whose.capitalize()} of {money(limit)} is spent ({money(spending.total)} counted). Nothing was sent."
    if cost is not None and cost > left:
        return f"{what} would cost about {money(cost)} and {money(left)} of {whose} of {money(limit)} are left. Nothing was sent."
    if cost is None and spending.unpriced:
        return (
            f"{what} has no known price, and another generation of unknown price is still running. With a "
            f"budget set, one such request goes at a time, so {whose} can be passed by one generation at most. "
            "Nothing was sent; try again when it has finished."
        )
    return None
