"""History's Prompts: each distinct prompt of a history frame, how often it ran and how it did.

Two prompts are one when they differ only in spacing (a pasted line break, a doubled space): what
people mean as the same prompt reads as one row. The row keeps the exact text of its latest run, which
is what loading it puts back in the form. A prompt's best rating is the frame's person's own, over
the runs they did not reject: a rejected video says nothing good about its prompt, whatever its stars.

`summarise` works on whole columns, so a history of 10,000 rows costs a few groupings; `page` builds
the records of one page only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .api import Status

#: Prompts listed per page.
PAGE_SIZE = 25
SUMMARY_COLUMNS = ["prompt", "runs", "models", "best_rating", "latest_id", "latest_at", "video_id"]


@dataclass(frozen=True)
class PromptStats:
    """One distinct prompt, over the runs the frame holds."""

    prompt: str  # the exact text of its latest run
    runs: int
    models: tuple[str, ...]  # every model it ran on, the latest first
    best_rating: int | None  # the person's best, rejected runs left out; None: none rated
    latest_id: str  # its latest run, finished or not
    latest_at: float  # when that run was made (Unix time)
    video_id: str | None  # its latest finished run, whose video stands for the prompt; None: none finished


def normalised(prompt: pd.Series) -> pd.Series:
    """Each prompt with its runs of whitespace made one space and its ends trimmed; a missing one is ''."""
    return prompt.fillna("").astype(str).str.split().str.join(" ")


def summarise(frame: pd.DataFrame, *, search: str = "") -> pd.DataFrame:
    """One row per distinct prompt of `frame` (`history.frame`'s columns), latest used first (SUMMARY_COLUMNS).

    `search`: only prompts holding it, whatever its case and spacing. Rows with no prompt (models that take
    none) are left out: there is nothing to load."""
    key = normalised(frame["prompt"])
    rows = frame.assign(key=key)[key != ""].sort_values("created", ascending=False, kind="stable")
    if needle := " ".join(search.split()).casefold():
        # Matched on the distinct prompts, not on every run: fewer strings to fold, the same runs kept.
        keys = pd.Series(rows["key"].unique())
        rows = rows[rows["key"].isin(keys[keys.str.casefold().str.contains(needle, regex=False)])]
    latest = rows.drop_duplicates("key").set_index("key")
    groups = rows.groupby("key", sort=False)
    liked = rows[~rows["rejected"].astype(bool)]
    finished = rows[rows["status"] == Status.COMPLETED.value].drop_duplicates("key").set_index("key")
    # One plain pass over the distinct (prompt, model) pairs, newest first: a groupby aggregating to tuples
    # builds a Series per group, which is most of the work once there are thousands of prompts.
    pairs = rows.drop_duplicates(["key", "model"])
    models: dict[str, tuple[str, ...]] = {}
    for prompt_key, model in zip(pairs["key"], pairs["model"], strict=True):
        models[prompt_key] = (*models.get(prompt_key, ()), model)
    summary = pd.DataFrame(
        {
            "prompt": latest["prompt"],
            "runs": groups.size(),
            "models": pd.Series(models, dtype=object),
            "best_rating": liked.groupby("key", sort=False)["rating"].max().astype("Int64"),
            "latest_id": latest["id"],
            "latest_at": latest["created"],
            "video_id": finished["id"],
        },
        index=latest.index,
    )
    return summary.reset_index(drop=True)[SUMMARY_COLUMNS]


def page(summary: pd.DataFrame, number: int, size: int = PAGE_SIZE) -> list[PromptStats]:
    """Page `number` (from 0) of `summary` as records."""
    shown = summary.iloc[number * size : (number + 1) * size]
    return [
        PromptStats(
            prompt=row.prompt,
            runs=int(row.runs),
            models=row.models,
            best_rating=None if pd.isna(row.best_rating) else int(row.best_rating),
            latest_id=row.latest_id,
            latest_at=row.latest_at.timestamp(),
            video_id=None if pd.isna(row.video_id) else row.video_id,
        )
        for row in shown.itertuples(index=False)
    ]
