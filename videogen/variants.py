"""Variants: one request swept along one dimension (seeds, models, aspect ratios or durations) into a batch.

The base request has already passed the form's validation. Each variant is that
request with one value changed, validated again for its own model, so a model
that takes other fields or other values is caught here, before anything is
sent. A variant that cannot be sent says why; the others are unaffected.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import catalog

#: What a batch can sweep, in the order the form offers them.
DIMENSIONS = ("seed", "model", "aspect_ratio", "duration")
MIN_ITEMS, MAX_ITEMS = 2, 8
# A seed for a model that publishes no upper bound: the unsigned 32-bit range most models take.
SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class Variant:
    """One request of a batch: what sets it apart, and its body, or why it cannot be sent."""

    label: str
    body: dict[str, Any] | None = None
    problem: str | None = None
    dropped: tuple[str, ...] = field(default=())  # fields of the base request this model does not take

    @property
    def ok(self) -> bool:
        return self.body is not None


def new_batch_id() -> str:
    return uuid.uuid4().hex[:12]


def seed_range(model: catalog.Model) -> tuple[int, int] | None:
    """The seeds `model` accepts, or None when it takes no seed."""
    try:
        rules = model.param("seed").rules
    except KeyError:
        return None
    return int(rules.get("minimum", 0)), int(rules.get("maximum", SEED_MAX))


def draw_seeds(model: catalog.Model, count: int, *, avoid: Any = None, rng: random.Random | None = None) -> list[int]:
    """`count` different random seeds in the model's range (none equal to `avoid`)."""
    low, high = seed_range(model) or (0, SEED_MAX)
    rng = rng or random.SystemRandom()
    seeds: list[int] = []
    while len(seeds) < min(count, high - low + 1):
        seed = rng.randint(low, high)
        if seed not in seeds and (seed != avoid or high == low):
            seeds.append(seed)
    return seeds


def new_seed_request(request: Mapping[str, Any]) -> dict[str, Any] | None:
    """`request` with a new random seed in the model's range; None for a model that takes no seed."""
    try:
        model = catalog.get(str(request.get("model")))
    except catalog.UnknownModelError:
        return None
    if seed_range(model) is None:
        return None
    (seed,) = draw_seeds(model, 1, avoid=request.get("seed"))
    return {**request, "seed": seed}


def choices(model: catalog.Model, dimension: str) -> list[Any]:
    """The values a sweep of `dimension` can take for `model` (empty: the model cannot sweep it)."""
    if dimension == "model":
        return [m.id for m in catalog.models().values() if m.kind == model.kind]
    if dimension == "seed":
        return list(range(MIN_ITEMS, MAX_ITEMS + 1)) if seed_range(model) else []
    try:
        rules = model.param(dimension).rules
    except KeyError:
        return []
    if rules.get("enum"):
        return [v for v in rules["enum"] if v is not None]
    if rules.get("type") == "integer" and "minimum" in rules and "maximum" in rules:
        return list(range(int(rules["minimum"]), int(rules["maximum"]) + 1))
    return []


def expand(base: Mapping[str, Any], dimension: str, values: Sequence[Any] | int) -> list[Variant]:
    """The batch: `base` once per value of `dimension`. For "seed", `values` is how many seeds.

    Raises ValueError when the sweep itself is not possible (too few or too many, a model without seeds).
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"Variants cannot sweep {dimension!r}.")
    model = catalog.get(str(base["model"]))
    if dimension == "seed":
        if seed_range(model) is None:
            raise ValueError(f"{model.name or model.id} takes no seed, so there are no seeds to vary.")
        count = values if isinstance(values, int) else len(values)
        values = draw_seeds(model, _checked_count(count), avoid=base.get("seed"))
    values = list(dict.fromkeys(values))  # the same value twice would pay twice for one result
    _checked_count(len(values))
    if dimension == "model":
        return [_for_model(base, model_id) for model_id in values]
    return [_with(base, model, dimension, value) for value in values]


def _checked_count(count: int) -> int:
    if not MIN_ITEMS <= count <= MAX_ITEMS:
        raise ValueError(f"A batch has {MIN_ITEMS} to {MAX_ITEMS} variants; this one would have {count}.")
    return count


def label(dimension: str, value: Any) -> str:
    if dimension == "seed":
        return f"seed {value}"
    if dimension == "duration":
        return f"{value} s"
    if dimension == "model":
        try:
            return catalog.get(str(value)).name or str(value)
        except catalog.UnknownModelError:
            return str(value)
    return str(value)


def _with(base: Mapping[str, Any], model: catalog.Model, dimension: str, value: Any) -> Variant:
    checked = catalog.validate(model, {**base, dimension: value})
    if not checked.ok:
        return Variant(label(dimension, value), problem="; ".join(checked.errors.values()))
    return Variant(label(dimension, value), body=checked.body)


def _for_model(base: Mapping[str, Any], model_id: str) -> Variant:
    """`base` for another model: the fields that model takes, validated by its own rules."""
    try:
        target = catalog.get(model_id)
    except catalog.UnknownModelError as exc:
        return Variant(model_id, problem=str(exc))
    taken = {p.name for p in target.params}
    params = {k: v for k, v in base.items() if k in taken}
    dropped = tuple(k for k in base if k != "model" and k not in taken)
    checked = catalog.validate(target, params)
    if not checked.ok:
        return Variant(label("model", model_id), problem="; ".join(checked.errors.values()), dropped=dropped)
    return Variant(label("model", model_id), body=checked.body, dropped=dropped)


def differences(requests: Sequence[Mapping[str, Any]]) -> set[str]:
    """The request fields whose values are not the same in all of `requests` (a field one lacks counts)."""
    names = {name for request in requests for name in request}
    return {n for n in names if len({repr(r.get(n)) for r in requests}) > 1}
