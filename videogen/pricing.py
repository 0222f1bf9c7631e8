"""Prices before the first run, from the server's price list (`GET /v1/models?include=pricing`).

    prices = PriceList(base_url, data_dir, server=base_url).start()
    prices.price({"model": "veo2", "duration": 5})
    # Price(usd=1.95, explanation="$1.95: 5 s × $0.39/s, vendor price list of 2026-12-01", credits=3900000)

The list needs no key, so none is sent: this module has its own session, never
the client's. It is read in a background thread at start and then once a day,
and kept with its ETag in `<data_dir>/prices/<server>.json`, so a revalidation
is a 304 and a restart with the server out of reach still has the last copy,
labelled as one that could not be refreshed.

A price is quoted only where the list says plainly what the request costs:
a model the list lacks, a pricing shape this module does not read, a `variable`
price (the vendor's word for one set by the run) or a per-second price with no
duration to multiply by is "no price known", never a guess.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import requests

from . import catalog
from .api import CREDITS_PER_USD, AnswerTooLargeError, read_capped, session_for

log = logging.getLogger(__name__)

__all__ = ["CREDITS_PER_USD", "Price", "PriceList", "dollars"]
LIST_PATH = "/v1/models"
REFRESH_SECONDS = 24 * 3600
# After a failed read: soon enough that an outage of minutes is not a day of stale prices.
RETRY_SECONDS = 15 * 60
# Many times the size of the full list with prices (docs/measurements.md): far more is not a price list.
MAX_ANSWER_BYTES = 16 * 1024 * 1024

_SECOND_UNITS = frozenset({"second", "seconds", "sec", "s"})
_VIDEO_UNITS = frozenset({"video", "videos", "generation", "generations", "request", "requests"})
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class Price:
    """What a request costs by the price list: dollars, the same in credits, and how it was worked out."""

    usd: float
    explanation: str  # "$1.95: 5 s × $0.39/s at 720p, vendor price list of 2026-12-01"
    credits: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "credits", round(self.usd * CREDITS_PER_USD))


def dollars(usd: float) -> str:
    """An amount as people read it: "$1.95"; below a cent, its own digits ("$0.0035")."""
    if usd == 0 or abs(usd) >= 0.005:
        return f"${usd:,.2f}"
    return "$" + f"{usd:.6f}".rstrip("0")


def _rate(usd: float) -> str:
    """A rate with the digits it was given, at least cents: "$0.39", "$0.035", "$1.00"."""
    text = f"{usd:,.6f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


# -- reading the list ---------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and _NUMBER_TEXT.match(value.strip()):
        return float(value.strip())
    return None


def _norm(value: Any) -> str | None:
    """A parameter value as the list and a request can both spell it: 5, 5.0 and "5" alike; "720P" as "720p"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    number = _number(value)
    if number is not None:
        return f"{number:g}"
    if isinstance(value, str):
        return value.strip().lower()
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class _Rate:
    price: float
    per: float
    unit: str  # "second" or "video"

    def cost(self, seconds: float | None) -> tuple[float, str] | None:
        if self.unit == "video":
            each = self.price / self.per
            text = f"{_rate(self.price)} per video" if self.per == 1 else f"{_rate(self.price)} per {self.per:g} videos"
            return each, text
        if seconds is None:
            return None
        rate = f"{_rate(self.price)}/s" if self.per == 1 else f"{_rate(self.price)} per {self.per:g} s"
        return self.price * seconds / self.per, f"{seconds:g} s × {rate}"


def _read_rate(block: Mapping[str, Any], *, unit_key: str = "unit") -> _Rate | None:
    """A rate from {"price", "per", "unit"}; None for anything less plain (a missing `per`, tokens, an input measure)."""
    price, per = _number(block.get("price")), _number(block.get("per"))
    unit = block.get(unit_key, block.get("unit"))
    currency = block.get("currency", "USD")
    measure = block.get("measure", "output")
    if price is None or price < 0 or per is None or per <= 0 or not isinstance(unit, str):
        return None
    if not isinstance(currency, str) or currency.upper() != "USD" or measure != "output":
        return None
    unit = unit.strip().lower()
    if unit in _SECOND_UNITS:
        return _Rate(price, per, "second")
    if unit in _VIDEO_UNITS:
        return _Rate(price, per, "video")
    return None


@dataclass(frozen=True)
class _Variant:
    when: tuple[tuple[str, str, Any], ...]  # (field, normalised value, value as the list gives it)
    rate: _Rate | None  # None: a price this module cannot read; matching it quotes nothing


@dataclass(frozen=True)
class _Tariff:
    """One model's pricing block, read once when the list loads."""

    kind: str  # "variants" | "fixed" | "variable" | "unknown"
    variants: tuple[_Variant, ...] = ()
    rates: tuple[_Rate, ...] = ()


_UNKNOWN = _Tariff("unknown")


def read_pricing(block: Any) -> _Tariff:
    """A pricing block as a tariff; any shape not read here is "unknown", which quotes nothing."""
    if not isinstance(block, Mapping):
        return _UNKNOWN
    kind = block.get("kind")
    currency = block.get("currency", "USD")
    if not isinstance(currency, str) or currency.upper() != "USD":
        return _UNKNOWN
    if kind == "variable":
        return _Tariff("variable")
    if kind == "variants":
        variants = block.get("variants")
        if not isinstance(variants, list) or not variants:
            return _UNKNOWN
        read = []
        for item in variants:
            if not isinstance(item, Mapping) or not isinstance(item.get("when", {}), Mapping):
                return _UNKNOWN  # a variant we cannot place could be the one that applies
            when = tuple((str(k), _norm(v), v) for k, v in item.get("when", {}).items())
            read.append(_Variant(when, _read_rate(item)))
        return _Tariff("variants", variants=tuple(read))
    if kind == "fixed":
        units = block.get("units")
        if isinstance(units, list) and units:
            rates = [_read_rate(u, unit_key="name") if isinstance(u, Mapping) else None for u in units]
        elif "price" in block:
            rates = [_read_rate(block)]
        else:
            return _UNKNOWN
        # Every part must be one we read: a total without one of its parts is a guess.
        return _Tariff("fixed", rates=tuple(rates)) if all(rates) else _UNKNOWN
    return _UNKNOWN


def list_items(answer: Any) -> list[Mapping[str, Any]]:
    """The items of a model list: `{"object": "list", "data": [...]}`, or the older bare array."""
    if isinstance(answer, Mapping) and isinstance(answer.get("data"), list):
        return [item for item in answer["data"] if isinstance(item, Mapping)]
    if isinstance(answer, list):
        return [item for item in answer if isinstance(item, Mapping)]
    raise ValueError("not a model list")


def index_items(items: Iterable[Mapping[str, Any]]) -> dict[str, _Tariff]:
    """Every id and alias (lower case, as the server matches them) to its model's tariff.

    An id wins over another model's alias of the same name; a malformed item is skipped.
    """
    by_id: dict[str, _Tariff] = {}
    by_alias: dict[str, _Tariff] = {}
    for item in items:
        model_id = item.get("id")
        if not isinstance(model_id, str) or not model_id.strip():
            continue
        tariff = read_pricing(item.get("pricing"))
        by_id.setdefault(model_id.strip().lower(), tariff)
        aliases = item.get("aliases")
        for alias in aliases if isinstance(aliases, list) else ():
            if isinstance(alias, str) and alias.strip():
                by_alias.setdefault(alias.strip().lower(), tariff)
    return {**by_alias, **by_id}


# -- quoting ----------------------------------------------------------------------


def _seconds(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


def _phrase(when: tuple[tuple[str, str, Any], ...]) -> str:
    parts = []
    for name, _, shown in when:
        if name == "duration":
            parts.append(f"{shown} s")
        elif name == "resolution":
            parts.append(str(shown))
        else:
            parts.append(f"{name.replace('_', ' ')} {shown}")
    return f" at {', '.join(parts)}" if parts else ""


def quote(
    tariff: _Tariff, body: Mapping[str, Any], defaults: Mapping[str, Any], fields: Collection[str] | None = None
) -> tuple[float, str] | str:
    """(dollars, how) for `body` by `tariff`, the model's `defaults` standing in for blank fields; else why not.

    `fields`, the model's parameters, tells a field left blank from one the model does not take.
    """

    def value(name: str) -> Any:
        given = body.get(name)
        return defaults.get(name) if given is None or (isinstance(given, str) and not given.strip()) else given

    def until(names: Iterable[str]) -> str:
        if fields is not None and any(name not in fields for name in names):
            return "no price known for this model: its price depends on a field it does not take"
        return f"no price known until a {' and a '.join(n.replace('_', ' ') for n in names)} is chosen"

    seconds = _seconds(value("duration"))
    if tariff.kind == "variable":
        return "no price known for this model: its price is set by the run, not quoted ahead"
    if tariff.kind == "fixed":
        costs = [rate.cost(seconds) for rate in tariff.rates]
        if not all(costs):
            return until(["duration"])
        return sum(c[0] for c in costs), " + ".join(c[1] for c in costs)
    if tariff.kind != "variants":
        return "no price known for this model: its entry in the price list has a shape this app does not read"
    matching = [v for v in tariff.variants if all(wanted is not None and _norm(value(name)) == wanted for name, wanted, _ in v.when)]
    if not matching:
        named = dict.fromkeys(name for v in tariff.variants for name, _, _ in v.when)
        if blank := [name for name in named if _norm(value(name)) is None]:
            return until(blank)
        return "no price known for these settings"
    # A variant that names more of the request is the more specific one: {} is the fallback, not a rival.
    closest = max(len(v.when) for v in matching)
    best = [v for v in matching if len(v.when) == closest]
    if len({v.rate for v in best}) > 1 or best[0].rate is None:
        return "no price known for these settings: the price list is not clear about them"
    cost = best[0].rate.cost(seconds)
    if cost is None:
        return until(["duration"])
    return cost[0], cost[1] + _phrase(best[0].when)


# -- the list, kept and refreshed -----------------------------------------------------


def server_slug(server: str) -> str:
    """A file name for a server: "demo", or its address made safe with a short digest against collisions."""
    if server == "demo":
        return server
    readable = re.sub(r"[^a-z0-9]+", "-", server.lower().removeprefix("https://").removeprefix("http://")).strip("-")
    return f"{readable[:60]}-{sha256(server.encode()).hexdigest()[:8]}"


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).date().isoformat()


@dataclass(frozen=True)
class _Snapshot:
    by_model: dict[str, _Tariff]  # catalog id -> its tariff, for the models the list has
    defaults: dict[str, dict[str, Any]]
    fields: dict[str, frozenset[str]]
    checked_at: float  # when the server last gave or confirmed this list
    stale: bool  # the last attempt to refresh it failed


class PriceList:
    """The server's price list: loaded from the last stored copy, refreshed in the background.

    `price()` reads an immutable snapshot swapped in whole, so it needs no lock
    and costs a few dictionary look-ups.
    """

    def __init__(
        self,
        base_url: str,
        data_dir: Path,
        *,
        server: str,
        source: str = "vendor price list",
        refresh_seconds: float = REFRESH_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
        max_bytes: int = MAX_ANSWER_BYTES,
        timeout: tuple[float, float] = (5.0, 30.0),
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + LIST_PATH
        self.path = Path(data_dir) / "prices" / f"{server_slug(server)}.json"
        self.source = source  # how the label names the list: "vendor price list", "demo price list"
        self.refresh_seconds = refresh_seconds
        self.retry_seconds = retry_seconds
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._clock = clock
        self._stop = threading.Event()
        # How the background loop waits between reads: True means stop. Tests pass their own, to run a day in no time.
        self._wait = wait or self._stop.wait
        self._attempted = threading.Event()
        self._refresh_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._snapshot: _Snapshot | None = None
        self._etag: str | None = None
        self._answer: str | None = None
        self._fetched_at: float | None = None
        self._session = session_for(self.url)
        self._session.max_redirects = 3
        self._load_stored()

    # -- reading prices

    @property
    def loaded(self) -> bool:
        return self._snapshot is not None

    @property
    def label(self) -> str | None:
        """Where prices come from: "vendor price list of 2026-12-01" (", could not be refreshed" when stale)."""
        snap = self._snapshot
        if snap is None:
            return None
        return f"{self.source} of {_day(snap.checked_at)}" + (", could not be refreshed" if snap.stale else "")

    def dimensions(self, model_id: str) -> tuple[str, ...]:
        """The request fields the model's listed price depends on (its variants' fields, and a per-second duration)."""
        snap = self._snapshot
        tariff = snap.by_model.get(model_id) if snap else None
        if tariff is None:
            return ()
        rates = tariff.rates or tuple(v.rate for v in tariff.variants if v.rate)
        per_second = ("duration",) if any(r.unit == "second" for r in rates) else ()
        return tuple(dict.fromkeys([*per_second, *(name for v in tariff.variants for name, _, _ in v.when)]))

    def price(self, body: Mapping[str, Any]) -> Price | None:
        """The price of the request `body` by the list; None when the list does not say plainly."""
        result = self._quote(body)
        return result if isinstance(result, Price) else None

    def no_price_reason(self, body: Mapping[str, Any]) -> str:
        """Why `body` has no price, in a few words starting "no price known"; "" when it has one."""
        result = self._quote(body)
        return "" if isinstance(result, Price) else result

    def _quote(self, body: Mapping[str, Any]) -> Price | str:
        snap = self._snapshot
        if snap is None:
            if self._attempted.is_set():
                return "no price known: the price list could not be read"
            return "no price known yet: the price list is loading"
        model_id = str(body.get("model") or catalog.DEFAULT_MODEL)
        tariff = snap.by_model.get(model_id)
        if tariff is None:
            return "no price known for this model"
        result = quote(tariff, body, snap.defaults.get(model_id, {}), snap.fields.get(model_id))
        if isinstance(result, str):
            return result
        usd, how = result
        usd = round(usd, 9)  # 5 × 0.39 is 1.9500000000000002 in floating point
        return Price(usd, f"{dollars(usd)}: {how}, {self.label}")

    # -- keeping it fresh

    def start(self) -> PriceList:
        """Read the list now in the background, and again every day (sooner after a failure)."""
        self._thread = threading.Thread(target=self.run, name="prices", daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """The background loop (also callable directly, with a `wait` that returns True to end it)."""
        while not self._stop.is_set():
            ok = self.refresh()
            if self._wait(self.refresh_seconds if ok else self.retry_seconds):
                return

    def wait_loaded(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the first read to succeed or fail; whether prices are known now."""
        if not self.loaded:
            self._attempted.wait(timeout)
        return self.loaded

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._session.close()

    def refresh(self) -> bool:
        """Ask the server once (If-None-Match when a copy is kept); whether the list is now current."""
        with self._refresh_lock:
            try:
                return self._refresh()
            except (requests.RequestException, ValueError, RecursionError, AnswerTooLargeError, OSError) as exc:
                log.warning("price list %s could not be refreshed: %s", self.url, exc)
                self._mark_stale()
                return False
            finally:
                self._attempted.set()

    def _refresh(self) -> bool:
        headers = {"Accept": "application/json"}
        if self._etag and self._snapshot is not None:
            headers["If-None-Match"] = self._etag
        with self._session.get(self.url, params={"include": "pricing"}, headers=headers, timeout=self.timeout, stream=True) as response:
            if response.status_code == 304 and self._snapshot is not None:
                now = self._clock()
                self._snapshot = replace(self._snapshot, checked_at=now, stale=False)
                self._save(now)
                return True
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            answer = _read_text(response, self.max_bytes)
            etag = response.headers.get("ETag")
        now = self._clock()
        self._install(answer, etag=etag, fetched_at=now, checked_at=now)
        return True

    def _install(self, answer: str, *, etag: str | None, fetched_at: float, checked_at: float, save: bool = True) -> None:
        """Read `answer` and make it the current list; keep it on disk. Raises ValueError if it is no list."""
        snapshot = _snapshot_of(json.loads(answer), checked_at=checked_at)
        self._answer, self._etag, self._fetched_at = answer, etag, fetched_at
        self._snapshot = snapshot
        if save:
            self._save(checked_at)

    def _mark_stale(self) -> None:
        snap = self._snapshot
        if snap is not None and not snap.stale:
            self._snapshot = replace(snap, stale=True)

    def _save(self, checked_at: float) -> None:
        record = {"url": self.url, "etag": self._etag, "fetched_at": self._fetched_at, "checked_at": checked_at, "answer": self._answer}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".prices-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(record, f)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # an unwritable data dir costs the copy, not the prices
            log.warning("could not keep the price list in %s: %s", self.path, exc)

    def _load_stored(self) -> None:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
            checked_at = float(record["checked_at"])
            self._install(
                str(record["answer"]),
                etag=record.get("etag") or None,
                fetched_at=float(record.get("fetched_at") or checked_at),
                checked_at=checked_at,
                save=False,
            )
        except FileNotFoundError:
            pass
        except (OSError, ValueError, RecursionError, KeyError, TypeError) as exc:
            log.warning("ignoring an unreadable stored price list %s: %s", self.path, exc)


def _snapshot_of(answer: Any, *, checked_at: float) -> _Snapshot:
    index = index_items(list_items(answer))
    by_model, defaults, fields = {}, {}, {}
    for model in catalog.models().values():
        for name in model.names:
            tariff = index.get(name.lower())
            if tariff is not None:
                by_model[model.id] = tariff
                defaults[model.id] = model.defaults
                fields[model.id] = frozenset(p.name for p in model.params)
                break
    return _Snapshot(by_model, defaults, fields, checked_at, stale=False)


def _read_text(response: requests.Response, limit: int) -> str:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AnswerTooLargeError(f"the answer is {int(declared):,} bytes, over the {limit:,} cap")
    return read_capped(response, limit).decode(response.encoding or "utf-8", errors="replace")
