"""Every setting the app takes from its environment: the variables' names, their defaults, and how each is read.

Each reader takes the environment as a mapping, `os.environ` unless given another, so the health check, a
test or the app's secrets.toml can stand in for it: the app reads some of these from secrets.toml too
(`components/services.py`), in an order of its own per setting. Nothing else in the app reads the
environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: The API key: the first of these that is set.
KEY_VARIABLES = ("AIMLAPI_API_KEY", "AIML_API_KEY")
BASE_URL_VARIABLE = "AIMLAPI_BASE_URL"
#: The history's SQLite file, the saved videos and the uploads.
DATA_DIR_VARIABLE = "PLAYGROUND_DATA_DIR"
#: PostgreSQL for a team; empty for SQLite in the data directory.
DATABASE_URL_VARIABLE = "DATABASE_URL"
#: How long a demo generation takes.
DEMO_SECONDS_VARIABLE = "PLAYGROUND_DEMO_SECONDS"
#: How long the server usually takes, when it is not the catalog's figure (a self-hosted or test server):
#: it sets when generations are polled and the time left a card promises.
TYPICAL_SECONDS_VARIABLE = "PLAYGROUND_TYPICAL_SECONDS"
#: Sums of money, each set as <stem>_CREDITS or <stem>_USD: the key's budget, each signed-in person's own,
#: and what a request of unknown price is counted at.
BUDGET_STEM = "PLAYGROUND_BUDGET"
PERSON_BUDGET_STEM = "PLAYGROUND_PERSON_BUDGET"
UNPRICED_CEILING_STEM = "PLAYGROUND_UNPRICED_CEILING"
#: "off" (or 0, false, no) keeps saved videos as downloaded, without their recipe in the file's metadata.
RECIPES_VARIABLE = "PLAYGROUND_RECIPES"
#: The chat model "Improve prompt" asks unless the person picks another (an id or alias of chat_models.json).
CHAT_MODEL_VARIABLE = "PLAYGROUND_CHAT_MODEL"
#: The certificate authorities to trust, by the names requests and curl read them under.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

DEFAULT_BASE_URL = "https://api.aimlapi.com"
DEFAULT_DATA_DIR = "data"
DEFAULT_DEMO_SECONDS = 10.0
MIN_SECONDS = 0.1

Unit = Literal["credits", "usd"]


@dataclass(frozen=True)
class Money:
    """A sum as a deployment set it: in credits, or in dollars (`spend.in_credits` turns it into credits)."""

    amount: float
    unit: Unit


class Layers(Mapping[str, str]):
    """Each name's value from the first of `layers` that sets it to more than blanks."""

    def __init__(self, *layers: Mapping[str, str]) -> None:
        self._layers = layers

    def __getitem__(self, name: str) -> str:
        for layer in self._layers:
            value = layer.get(name)
            if value is not None and str(value).strip():
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for layer in self._layers for name in layer if name in self))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def environment_first(other: Mapping[str, str]) -> Layers:
    """The environment, and `other` (secrets.toml, say) for what it leaves unset."""
    return Layers(os.environ, other)


def environment_last(other: Mapping[str, str]) -> Layers:
    """`other`, and the environment for what it leaves unset."""
    return Layers(other, os.environ)


def _text(environ: Mapping[str, str], name: str) -> str:
    return str(environ.get(name, "")).strip()


def api_key(environ: Mapping[str, str] = os.environ) -> str | None:
    for name in KEY_VARIABLES:
        if value := _text(environ, name):
            return value
    return None


def base_url(environ: Mapping[str, str] = os.environ) -> str:
    return _text(environ, BASE_URL_VARIABLE) or DEFAULT_BASE_URL


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(_text(environ, DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR)


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    return _text(environ, DATABASE_URL_VARIABLE)


def _seconds(environ: Mapping[str, str], name: str, default: float | None) -> float | None:
    try:
        return max(MIN_SECONDS, float(environ[name]))
    except (KeyError, ValueError):
        return default


def demo_seconds(environ: Mapping[str, str] = os.environ) -> float:
    return _seconds(environ, DEMO_SECONDS_VARIABLE, DEFAULT_DEMO_SECONDS)


def typical_seconds(environ: Mapping[str, str] = os.environ) -> float | None:
    """None: the catalog's figure for each model."""
    return _seconds(environ, TYPICAL_SECONDS_VARIABLE, None)


def money(stem: str, environ: Mapping[str, str] = os.environ) -> Money | None:
    """<stem>_CREDITS, else <stem>_USD, never below 0; None when neither holds a number."""
    units: tuple[tuple[str, Unit], ...] = (("_CREDITS", "credits"), ("_USD", "usd"))
    for suffix, unit in units:
        if text := _text(environ, stem + suffix):
            try:
                return Money(max(0.0, float(text)), unit)
            except ValueError:
                continue
    return None


def budget(environ: Mapping[str, str] = os.environ) -> Money | None:
    return money(BUDGET_STEM, environ)


def person_budget(environ: Mapping[str, str] = os.environ) -> Money | None:
    return money(PERSON_BUDGET_STEM, environ)


def unpriced_ceiling(environ: Mapping[str, str] = os.environ) -> Money | None:
    return money(UNPRICED_CEILING_STEM, environ)


def recipes(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether each saved video carries its recipe (on unless turned off)."""
    return _text(environ, RECIPES_VARIABLE).lower() not in ("off", "0", "false", "no")


def chat_model(environ: Mapping[str, str] = os.environ) -> str | None:
    """None: the app's cheap default."""
    return _text(environ, CHAT_MODEL_VARIABLE) or None


def ca_bundle(environ: Mapping[str, str] = os.environ) -> str | None:
    """A file of certificate authorities to trust instead of certifi's; None: certifi's."""
    for name in CA_BUNDLE_VARIABLES:
        if value := environ.get(name):
            return value
    return None
