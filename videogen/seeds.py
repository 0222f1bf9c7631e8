"""Seeds are always recorded: a request that leaves its seed blank gets one drawn before it is sent.

A model that takes a seed picks one itself when none is given, and most never say which; such a
generation cannot be made again. Drawing the seed here, in the model's range, puts it in the
request body that the history stores, so every generation of a seeded model can be repeated or
varied from its own seed.

Where the vendor publishes no bounds, seeds are drawn from the unsigned 32-bit range, which the
vendors that do publish bounds use (0 to 4,294,967,295). A published default outside that range
(bytedance/seedance-1-5-pro's -1) is the vendor's way of saying "choose one for me", so it counts
as blank too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from . import catalog
from .catalog import Param

#: The field every seeded model of the catalog names its seed.
SEED_FIELD = "seed"
#: The largest seed drawn for a model that publishes no maximum.
SEED_MAX = 2**32 - 1

_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")


def seed_param(model: str | catalog.Model) -> Param | None:
    """The model's seed parameter, or None when it takes no seed (or takes one that is not a whole number).

    Raises `catalog.UnknownModelError` for a model the catalog does not have.
    """
    if isinstance(model, str):
        model = catalog.get(model)
    try:
        param = model.param(SEED_FIELD)
    except KeyError:
        return None
    kinds = param.type if isinstance(param.type, list) else [param.type]
    return param if "integer" in kinds else None


def seed_range(param: Param) -> tuple[int, int]:
    """The seeds to draw from for this seed parameter, both ends included.

    Published bounds are kept, except that a negative minimum is raised to 0: below 0 a seed
    means "random" to the vendors that accept one, and a drawn seed is meant to be repeatable.
    """
    low = max(int(param.rules.get("minimum", 0)), 0)
    high = int(param.rules.get("maximum", SEED_MAX))
    if high < low:
        raise ValueError(f"the seed of this model has no value to draw: {param.rules.get('minimum')}..{param.rules.get('maximum')}")
    return low, high


def with_seed(body: Mapping[str, Any], *, rng: random.Random | None = None) -> tuple[dict[str, Any], int | None]:
    """(a copy of `body` with a seed, the seed it will run with).

    When the body's model takes a seed and the body leaves it blank (missing, None, empty text or
    the vendor's "choose one" default), a seed is drawn in the model's range with `rng` (by default
    the system's). A seed the body gives (0 included) is kept as it is. The seed is None when the
    model takes no seed, when the model is unknown (validation says so), and when the body's seed
    is not a whole number (validation refuses it); the body is then returned unchanged.

    Meant for a body that has passed `catalog.validate`, which always names its model.
    """
    out = dict(body)
    try:
        param = seed_param(str(body.get("model", "")))
    except catalog.UnknownModelError:
        return out, None
    if param is None:
        return out, None
    low, high = seed_range(param)
    given = body.get(SEED_FIELD)
    if not _is_blank(given, param, low, high):
        return out, _whole(given)
    seed = (rng or random.SystemRandom()).randint(low, high)
    out[SEED_FIELD] = seed
    return out, seed


def _is_blank(value: Any, param: Param, low: int, high: int) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    # Validation fills published defaults in, so a "choose one" default arrives here as a value.
    default = param.default
    return value == default and isinstance(default, int) and not low <= default <= high


def _whole(value: Any) -> int | None:
    """The whole number `value` stands for, as validation reads it (5, 5.0, " 5 "), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
        return int(value.strip())
    return None
