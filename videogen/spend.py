"""What generations cost: totals, an estimate from this history, and a budget.

Credits come from the API itself (`meta.usage.credits_used` of a finished
generation). Nothing here invents a price: an estimate is the median of what
this history's completed generations of the same model, duration and
resolution cost on the same server, and where there are none it says so.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Estimate:
    credits: float
    samples: int


def _key(request: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(request.get("model", "")), str(request.get("duration", "")).removesuffix(".0"),
            str(request.get("resolution", "")))


def estimate(costs: Iterable[tuple[Mapping[str, Any], float]], request: Mapping[str, Any]) -> Estimate | None:
    """The median credits of completed generations like `request` (model, duration, resolution); None if none.

    `costs`: (request, credits) of completed generations, as `Store.costs(model, server)` gives them.
    """
    wanted = _key(request)
    matching = [credits for past, credits in costs if _key(past) == wanted]
    return Estimate(statistics.median(matching), len(matching)) if matching else None


def totals(df: pd.DataFrame) -> pd.DataFrame:
    """Credits per day and model of the history table's rows (columns day, model, credits, generations)."""
    rows = df[df["credits"].notna()]
    if rows.empty:
        return pd.DataFrame({"day": pd.Series(dtype="object"), "model": pd.Series(dtype="object"),
                             "credits": pd.Series(dtype="float"), "generations": pd.Series(dtype="int")})
    days = rows["created"].dt.strftime("%Y-%m-%d")
    grouped = rows.assign(day=days).groupby(["day", "model"], as_index=False)
    return grouped.agg(credits=("credits", "sum"), generations=("id", "count")).astype({"credits": float})


@dataclass(frozen=True)
class Budget:
    limit: float  # credits
    spent: float

    @property
    def left(self) -> float:
        return self.limit - self.spent

    def refuses(self, cost: float | None, *, what: str = "This request") -> str | None:
        """Why `what`, estimated at `cost` credits (None: no estimate yet), may not be sent; None when it may."""
        if self.left <= 0:
            return f"The budget of {self.limit:,.0f} credits is spent ({self.spent:,.0f} used). Nothing was sent."
        if cost is not None and cost > self.left:
            return (f"{what} would cost about {cost:,.0f} credits and {self.left:,.0f} of the budget of "
                    f"{self.limit:,.0f} are left. Nothing was sent.")
        return None
