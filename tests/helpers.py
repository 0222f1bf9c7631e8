"""Helpers that only tests use, kept out of the app's modules; test modules and conftests import them from here."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from videogen import catalog, settings
from videogen.api import Client
from videogen.polling import Schedule

TEST_KEY = "sk-test-0123456789abcdef"
FAST_JOB_SECONDS = 0.6


def fast_schedule(model_id: str) -> Schedule:
    """The real schedule's shape, for jobs that take well under a second."""
    return Schedule.scaled(FAST_JOB_SECONDS)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds; tests assert on the result, never on elapsed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def minimal_body(model: catalog.Model, *, image_url: str, video_url: str, audio_url: str) -> dict[str, Any]:
    """The smallest body the model's schema accepts: its required fields, filled from defaults or examples.

    The links stand in for the files a model needs.
    """
    links = {"image": image_url, "video": video_url, "audio": audio_url}
    body: dict[str, Any] = {"model": model.id}
    for param in model.params:
        if param.required:
            body[param.name] = catalog.example(param.rules, links, media=param.media)
    return body


def client_from_env(**kw: Any) -> Client:
    """A client for the key and base URL in the environment, as the app finds them."""
    return Client(settings.api_key() or "", base_url=settings.base_url(), **kw)
