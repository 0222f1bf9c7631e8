"""Helpers that only tests use, kept out of the app's modules."""

from __future__ import annotations

from typing import Any

from videogen import catalog
from videogen.api import Client, api_key_from_env, base_url_from_env


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
    return Client(api_key_from_env() or "", base_url=base_url_from_env(), **kw)
