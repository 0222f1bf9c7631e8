"""The simulator's prices: one table, published as the vendor's price list and used for its own charges.

    usd_for("veo2", {"model": "veo2", "duration": 5})   # 1.95

`GET /v1/models?include=pricing` lists every catalog model in the vendor's item
shape, with its price in the vendor's pricing shapes, so that the client's price
list code runs against all of them: `variants` by resolution (a per-second rate
per resolution), by duration (a price per video, as Kling's are), a single
variant with an empty `when`, a `fixed` price per second or per video, `per`
other than 1, and a few `variable` ones that cannot be quoted ahead. `usd_for`
charges by the same figures, so a quote of a listed price is what the simulator
charges.

The figures are the simulator's own, not the vendor's. Tests change what is
listed through `Listing` (`sim.listing`).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .. import catalog

# USD per second of video at 720p.
BASE_RATE = 0.14
FAST_RATE = 0.08
PREMIUM_RATE = 0.28
OWN_RATES = {"veo2": 0.39}  # $1.95 for its default 5 s, an amount the vendor's own runs show
# Whole words of the id: "minimax" is no "mini", "prompt" no "pro".
_FAST = re.compile(r"(?:^|[-/_.])(?:fast|flash|turbo|lite|draft|distill(?:ed)?|mini)(?=$|[-/_.])")
_PREMIUM = re.compile(r"(?:^|[-/_.])(?:pro|master|ultra)(?=$|[-/_.])")
RESOLUTION_FACTORS = {
    "360p": 0.5,
    "480p": 0.6,
    "540p": 0.75,
    "580p": 0.75,
    "720p": 1.0,
    "hd": 1.0,
    "768p": 1.1,
    "1080p": 5 / 3,
    "fhd": 5 / 3,
    "1440p": 2.5,
    "2k": 2.5,
    "2160p": 4.0,
    "4k": 4.0,
}
# A model without a duration field renders this long here (see server._seconds).
DEFAULT_SECONDS = 5
# Priced by the run: what the client must show as "no price known".
VARIABLE = frozenset({"pixverse/lip-sync", "tencent/hunyuan-video-foley"})
# Per 10 seconds rather than per second: `per` differs between models in the vendor's list too.
PER_TEN_VENDORS = frozenset({"MiniMax"})
# A `fixed` per-second price instead of one variant.
FIXED_VENDORS = frozenset({"Luma AI", "Runway"})
TYPE = "internal/video-generations/submit"


@dataclass(frozen=True)
class Tariff:
    """How one model is priced here; `variants` are (when, price) in the list's own figures."""

    kind: str  # "variants" | "fixed" | "variable"
    unit: str  # "second" | "video"
    per: int
    variants: tuple[tuple[tuple[tuple[str, Any], ...], float], ...]
    rate: float  # USD per second at 720p, what a variable price charges by

    def pricing(self) -> dict[str, Any]:
        """The vendor's pricing block for this tariff."""
        if self.kind == "variable":
            return {"kind": "variable", "currency": "USD"}
        if self.kind == "fixed":
            ((_, price),) = self.variants
            return {
                "kind": "fixed",
                "currency": "USD",
                "units": [{"name": self.unit, "measure": "output", "price": price, "per": self.per}],
            }
        dimensions = list(dict.fromkeys(name for when, _ in self.variants for name, _ in when))
        return {
            "kind": "variants",
            "currency": "USD",
            "dimensions": dimensions,
            "variants": [{"when": dict(when), "price": price, "unit": self.unit, "per": self.per} for when, price in self.variants],
        }


def _rate_of(model: catalog.Model) -> float:
    if model.id in OWN_RATES:
        return OWN_RATES[model.id]
    if _FAST.search(model.id):
        return FAST_RATE
    return PREMIUM_RATE if _PREMIUM.search(model.id) else BASE_RATE


@cache
def tariff(model_id: str) -> Tariff:
    model = catalog.get(model_id)
    rate = _rate_of(model)
    names = {p.name: p for p in model.params}
    duration, resolution = names.get("duration"), names.get("resolution")
    if model.id in VARIABLE:
        return Tariff("variable", "second", 1, (), rate)
    unit = "second" if duration is not None else "video"
    if duration is not None and duration.enum and resolution is None and model.vendor == "Kling AI":
        variants = tuple(((("duration", str(d)),), round(rate * float(d), 3)) for d in duration.enum)
        return Tariff("variants", "video", 1, variants, rate)
    per = 10 if model.vendor in PER_TEN_VENDORS and unit == "second" else 1
    # A price per second, or per video of the length rendered here.
    amount = per if unit == "second" else DEFAULT_SECONDS
    if resolution is not None and resolution.enum:
        # Spelled in lower case, whatever the model's enum says ("720P"): the client must match either.
        variants = tuple(((("resolution", str(r).lower()),), round(rate * _factor(r) * amount, 3)) for r in resolution.enum)
        return Tariff("variants", unit, per, variants, rate)
    if model.vendor in FIXED_VENDORS:
        return Tariff("fixed", unit, per, (((), round(rate * amount, 3)),), rate)
    return Tariff("variants", unit, per, (((), round(rate * amount, 3)),), rate)


def _factor(resolution: Any) -> float:
    return RESOLUTION_FACTORS.get(str(resolution).lower(), 1.0)


def _value(model: catalog.Model, body: Mapping[str, Any], name: str) -> Any:
    given = body.get(name)
    if given is None or (isinstance(given, str) and not given.strip()):
        return model.defaults.get(name)
    return given


def _same(given: Any, listed: Any) -> bool:
    """5, 5.0 and "5" alike; "720P" and "720p" alike."""
    try:
        return float(given) == float(listed)
    except (TypeError, ValueError):
        return str(given).strip().lower() == str(listed).strip().lower()


def _seconds(value: Any) -> float:
    try:
        return float(value) if value is not None else float(DEFAULT_SECONDS)
    except (TypeError, ValueError):
        return float(DEFAULT_SECONDS)


def usd_for(model_id: str, body: Mapping[str, Any]) -> float:
    """What the simulator charges for `body`, in USD: the listed price, or for a variable one the run's length."""
    model = catalog.get(model_id)
    t = tariff(model_id)
    seconds = _seconds(_value(model, body, "duration"))
    if t.kind == "variable":
        return round(t.rate * seconds, 4)
    price = None
    for when, amount in t.variants:
        if all(_same(_value(model, body, name), wanted) for name, wanted in when):
            price = amount
            break
    if price is None:  # a value the table does not list (a test's body): the 720p rate
        price = round(t.rate * (t.per if t.unit == "second" else seconds), 4)
    return round(price * seconds / t.per if t.unit == "second" else price / t.per, 6)


def item(model: catalog.Model, *, pricing: bool) -> dict[str, Any]:
    """The model in the vendor's list item shape; the list may name it otherwise, as it names veo2."""
    listed, *aliases = model.vendor_ids or (model.id,)
    entry = {
        "id": listed,
        "type": TYPE,
        "aliases": aliases,
        "tags": ["playground:video"],
        "info": {"name": model.name, "developer": model.vendor},
    }
    if pricing:
        entry["pricing"] = tariff(model.id).pricing()
    return entry


# Not a video model: a real list holds many such, and a client must pass over their token prices.
_CHAT_ITEM = {
    "id": "openai/gpt-4o",
    "type": "openai/chat-completions",
    "aliases": ["gpt-4o"],
    "tags": ["playground:chat"],
    "info": {"name": "GPT-4o", "developer": "Open AI"},
    "pricing": {"kind": "fixed", "currency": "USD", "units": [{"name": "token", "measure": "output", "price": 3.25, "per": 1000000}]},
}


class Listing:
    """What `GET /v1/models` answers. Tests change it: `set_pricing`, `remove`, `add`, `shape`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pricing: dict[str, Any] = {}  # catalog id -> pricing block served instead of the table's
        self._removed: set[str] = set()
        self._extra: list[Any] = []
        #: "list" ({"object": "list", "data": [...]}) or "array" (the bare array served before 2026)
        self.shape = "list"
        self._cache: dict[tuple, tuple[bytes, str]] = {}

    def set_pricing(self, model_id: str, block: Any) -> None:
        with self._lock:
            self._pricing[model_id] = block
            self._cache.clear()

    def remove(self, model_id: str) -> None:
        with self._lock:
            self._removed.add(model_id)
            self._cache.clear()

    def add(self, raw_item: Any) -> None:
        """Serve `raw_item` as one more entry, as it is (a malformed one, for tests)."""
        with self._lock:
            self._extra.append(raw_item)
            self._cache.clear()

    def reset(self) -> None:
        with self._lock:
            self._pricing.clear()
            self._removed.clear()
            self._extra.clear()
            self.shape = "list"
            self._cache.clear()

    def answer(self, *, pricing: bool) -> tuple[bytes, str]:
        """(body, ETag) of the list; the ETag changes with any change of the body, as the vendor's does."""
        with self._lock:
            key = (pricing, self.shape)
            if key not in self._cache:
                self._cache[key] = self._build(pricing)
            return self._cache[key]

    def _build(self, pricing: bool) -> tuple[bytes, str]:
        items: list[Any] = []
        for model in catalog.models().values():
            if model.id in self._removed:
                continue
            entry = item(model, pricing=pricing)
            if pricing and model.id in self._pricing:
                entry["pricing"] = self._pricing[model.id]
            if self.shape == "array":
                entry = {**entry, "type": "video", "endpoints": [model.endpoint]}
            items.append(entry)
        chat = dict(_CHAT_ITEM) if pricing else {k: v for k, v in _CHAT_ITEM.items() if k != "pricing"}
        items += [chat, *self._extra]
        answer = items if self.shape == "array" else {"object": "list", "data": items}
        body = json.dumps(answer).encode()
        return body, f'W/"{len(body):x}-{hashlib.sha256(body).hexdigest()[:27]}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match holds `etag` (weakly compared, as for GET), or "*"."""
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == wanted for tag in header.split(","))
