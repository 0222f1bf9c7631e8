"""HTTP client for the AI/ML API video endpoints, on a requests.Session.

    client = Client(api_key="...")
    gen = client.create({"model": "veo2", "prompt": "a fox in the snow"})
    gen = client.fetch(gen.id)

Retries belong to urllib3's `Retry`, mounted on the session. Fetches (GET) are
retried on connection errors, 429, 502/503/504 and Cloudflare's 520-527 (the
API sits behind it: a slow fetch has been answered 524 with an HTML page). Any
HTML error page is a gateway speaking, not the API: a server error, whatever
its status. A create (POST) is only
retried when the connection was never made; any failure after the body may have
reached the server raises `OutcomeUnknownError` instead, because a repeat could
start a second paid generation. A chat completion (`chat`, POST
/v1/chat/completions) and a picture from an image model (`generate_image`,
POST /v1/images/generations) are paid for too, and are sent the same way.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from .. import catalog, settings
from ..settings import DEFAULT_BASE_URL
from ._answers import Answer, error_text
from ._errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    RefusedError,
    ServerError,
)
from ._images import ImageResult


def is_loopback_host(host: str | None) -> bool:
    """A host on this machine (`urlsplit(link).hostname`): the simulator's, or a test server's."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


MAX_ANSWER_BYTES = 1024 * 1024
#: OpenAI's chat endpoint, which serves the API's text models on the same key.
CHAT_PATH = "/v1/chat/completions"
#: An answer that holds its pictures as base64 runs to megabytes (four 2K PNGs, a third larger again).
MAX_IMAGE_ANSWER_BYTES = 48 * 1024 * 1024
#: An image model draws while the request waits; the slower ones take a minute or more.
IMAGE_READ_TIMEOUT = 120.0
# How a 400 says it is a moderation refusal: OpenAI's `error.code` "moderation_blocked" and its relatives.
_REFUSAL_WORDS = re.compile(r"moderation|content[_ ]?policy|content[_ ]?filter|safety|nsfw", re.I)
# How each failure of a paid request ends its message: what the person cannot know.
_CREATE_DOUBT = "The generation may or may not have started."
_CHAT_DOUBT = "It may still have been charged."
# Cloudflare's own error statuses, in front of the API: 524 is "the origin took too long to answer".
GATEWAY_STATUSES = tuple(range(520, 528))
#: What the vendor puts in `error.data.kind` when the account has no credits left (its spelling).
OUT_OF_CREDITS_KINDS = ("err_insufficent_credits", "err_insufficient_credits")
_OUT_OF_CREDITS_WORDS = re.compile(r"\b(?:run|ran) out of credits\b|\binsufficient (?:credits|balance|funds)\b", re.I)


def key_hint(api_key: str | None) -> str:
    """What may be shown of a key: its last four characters."""
    return f"…{api_key[-4:]}" if api_key and len(api_key) >= 8 else "…"


class _Retry(Retry):
    """urllib3 Retry that hands long Retry-After waits back to the caller.

    Sleeping a minute inside a worker thread would stall every other
    generation's poll; the poller reschedules instead, at the time asked for.
    """

    def __init__(self, *args, inline_wait_max: float = 5.0, **kw):
        super().__init__(*args, **kw)
        self.inline_wait_max = inline_wait_max

    def new(self, **kw):
        fresh = super().new(**kw)
        fresh.inline_wait_max = self.inline_wait_max
        return fresh

    def get_retry_after(self, response):
        try:
            return super().get_retry_after(response)
        except InvalidHeader:  # a garbled header is no reason to crash; back off normally
            return None

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        wait = self.get_retry_after(response) if response is not None else None
        if wait is not None and wait > self.inline_wait_max:
            raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:g}s is left to the caller"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def session_for(url: str) -> requests.Session:
    """A session for the one host of `url`, with proxy and CA settings read from the environment once.

    requests re-reads proxy settings from the environment on every request, a third of a fetch's CPU
    time (make bench, fan-out). Nothing else comes from the environment: no .netrc credentials, on the
    first request or a redirect.
    """
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(url)
    session.verify = settings.ca_bundle() or True
    session.headers["User-Agent"] = "videogen-playground"
    return session


def default_retry(total: int = 3, *, inline_wait_max: float = 5.0) -> Retry:
    return _Retry(
        total=total,
        inline_wait_max=inline_wait_max,
        backoff_factor=0.5,
        backoff_max=8,
        backoff_jitter=0.25,
        status_forcelist=(429, 502, 503, 504, *GATEWAY_STATUSES),
        allowed_methods=frozenset({"GET"}),  # never POST: see module docstring
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class Client:
    """Create and fetch video generations, and ask a chat model. Thread-safe for concurrent fetches."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        legacy_paths: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retries: int = 3,
        max_inline_wait: float = 5.0,
        pool_size: int = 64,
    ) -> None:
        if not api_key or not api_key.strip():
            raise AuthenticationError("No API key was given.")
        parts = urlsplit(base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("The API base URL must look like https://host")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError("Refusing to send the API key over plain http to a non-loopback host.")
        self.base_url = base_url.rstrip("/")
        self.legacy_paths = legacy_paths
        self.timeout = (connect_timeout, read_timeout)
        self._key = api_key.strip()
        self._session = session_for(self.base_url)
        self._session.headers["Authorization"] = f"Bearer {self._key}"
        retry = default_retry(retries, inline_wait_max=max_inline_wait)
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_size)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    @property
    def key_hint(self) -> str:
        return key_hint(self._key)

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, key={self.key_hint!r})"

    def close(self) -> None:
        self._session.close()

    def path_for(self, model_id: str) -> str:
        """The endpoint for both create and fetch of this model."""
        model = catalog.get(model_id)
        if self.legacy_paths and model.legacy_endpoints:
            return model.legacy_endpoints[0]
        return model.endpoint

    def create(self, body: Mapping[str, Any]) -> Answer:
        """Start a generation. The body is validated again here: nothing invalid is ever sent."""
        checked = catalog.validate(str(body.get("model", "")), {k: v for k, v in body.items() if k != "model"})
        if not checked.ok:
            message = "; ".join(f"{field}: {text}" for field, text in checked.errors.items())
            raise InvalidRequestError(f"Not sent: {message}")
        url = self.base_url + self.path_for(checked.body["model"])
        response = self._post_paid(url, checked.body, timeout=self.timeout, doubt=_CREATE_DOUBT, unread="the generation id is unknown")
        _raise_for_status(response)
        try:
            return Answer.from_body(_json_object(response), headers=response.headers)
        except (MalformedResponseError, ValueError):
            raise OutcomeUnknownError(
                "The server accepted the request but its answer could not be read, so the generation id is unknown.",
                status=response.status_code,
            ) from None

    def chat(self, body: Mapping[str, Any], *, read_timeout: float | None = None) -> dict:
        """One chat completion in OpenAI's shape (`model`, `messages`): the answer's JSON object, as sent.

        It is paid for, so it is sent as a create is: never repeated once the body may have reached the
        server. `read_timeout` replaces the client's own for this request (a vision model can take a while).
        """
        problem = _chat_problem(body)
        if problem:
            raise InvalidRequestError(f"Not sent: {problem}")
        timeout = self.timeout if read_timeout is None else (self.timeout[0], read_timeout)
        response = self._post_paid(self.base_url + CHAT_PATH, dict(body), timeout=timeout, doubt=_CHAT_DOUBT, unread="its text is lost")
        _raise_for_status(response)
        try:
            return _json_object(response)
        except MalformedResponseError:
            raise OutcomeUnknownError(
                f"The server accepted the request but its answer could not be read. {_CHAT_DOUBT}", status=response.status_code
            ) from None

    def generate_image(self, body: Mapping[str, Any], *, read_timeout: float | None = None) -> ImageResult:
        """Pictures from a text-to-image model (`catalog.image_models()`): the answer, read, with at least one picture.

        The body is validated against the model's rules first, as a create's is, and it is sent once, as a
        create is: a picture is paid for. `read_timeout` replaces `IMAGE_READ_TIMEOUT`. A moderation refusal,
        or an answer with no picture that says why, raises RefusedError with the server's reason; an answer
        with no picture and no reason, OutcomeUnknownError.
        """
        model_id = str(body.get("model", ""))
        try:
            model = catalog.get_image(model_id)
        except catalog.UnknownModelError:
            raise InvalidRequestError(f"Not sent: model: {model_id!r} is not one of the image models.") from None
        checked = catalog.validate(model, {k: v for k, v in body.items() if k != "model"})
        if not checked.ok:
            message = "; ".join(f"{field}: {text}" for field, text in checked.errors.items())
            raise InvalidRequestError(f"Not sent: {message}")
        timeout = (self.timeout[0], IMAGE_READ_TIMEOUT if read_timeout is None else read_timeout)
        response = self._post_paid(
            self.base_url + model.endpoint,
            checked.body,
            timeout=timeout,
            doubt=_CHAT_DOUBT,
            unread="its pictures are lost",
            limit=MAX_IMAGE_ANSWER_BYTES,
        )
        if response.status_code in (400, 422) and _is_refusal(response):
            raise RefusedError(_message_of(response), status=response.status_code, request_id=_request_id(response))
        _raise_for_status(response)
        try:
            result = ImageResult.from_body(_json_object(response), request=checked.body, headers=response.headers)
        except MalformedResponseError:
            raise OutcomeUnknownError(
                f"The server accepted the request but its answer could not be read. {_CHAT_DOUBT}", status=response.status_code
            ) from None
        if result.images:
            return result
        if result.refusal:
            raise RefusedError(result.refusal, status=response.status_code)
        raise OutcomeUnknownError(f"The server answered without a picture or a reason. {_CHAT_DOUBT}", status=response.status_code)

    def _post_paid(
        self, url: str, body: Mapping[str, Any], *, timeout: tuple, doubt: str, unread: str, limit: int = MAX_ANSWER_BYTES
    ) -> requests.Response:
        """POST a request that costs money, once: its answer, read, unless the outcome cannot be known.

        `doubt` ends each OutcomeUnknownError's message; `unread` says what an answer over `limit` bytes loses.
        A 4xx from the API itself is returned, for `_raise_for_status`: the API refused, so nothing ran.
        """
        try:
            response = self._session.post(url, json=body, timeout=timeout, stream=True)
            read_capped(response, limit)
        except requests.RequestException as exc:
            if _never_connected(exc):
                raise NetworkError(f"Could not reach {self.base_url}; nothing was sent.") from None
            raise OutcomeUnknownError(f"The request was sent but no answer came back in time. {doubt}") from None
        except AnswerTooLargeError:
            raise OutcomeUnknownError(
                f"The server's answer was larger than {_size(limit)}, so it was not read and {unread}. {doubt}"
            ) from None
        if response.status_code >= 500 or (response.status_code >= 400 and _is_html(response)):
            # A gateway's page says nothing of whether the API received the body and acted on it.
            raise OutcomeUnknownError(
                f"The server failed while handling the request ({_message_of(response)}). {doubt}",
                status=response.status_code,
                request_id=_request_id(response),
            )
        return response

    def fetch(self, generation_id: str, *, model: str = catalog.DEFAULT_MODEL) -> Answer:
        """Read a generation's current state. Retried by urllib3 on transient failures."""
        url = self.base_url + self.path_for(model)
        try:
            response = self._session.get(url, params={"generation_id": generation_id}, timeout=self.timeout, stream=True)
            read_capped(response, MAX_ANSWER_BYTES)
        except requests.RequestException as exc:
            raise NetworkError(f"No answer from {self.base_url}: {_short_reason(exc)}") from None
        except AnswerTooLargeError:
            raise MalformedResponseError(
                f"The answer for {generation_id} was larger than {MAX_ANSWER_BYTES // 1024} KB; it was not read."
            ) from None
        _raise_for_status(response)
        try:
            return Answer.from_body(_json_object(response), fallback_id=generation_id)
        except ValueError as exc:
            raise MalformedResponseError(f"Unreadable answer for {generation_id}: {exc}", status=response.status_code) from None


class AnswerTooLargeError(Exception):
    """An answer past its cap; the rest of it was not read."""


def read_capped(response: requests.Response, limit: int) -> bytes:
    """Read a streamed body, `limit` bytes at the most, so that `.content` and `.json()` work on what was read.

    A generation's answer is a few hundred bytes; a server that sends megabytes (or never stops) must not
    fill this process's memory, where every poll worker would be reading at once.
    """
    data = bytearray()
    for chunk in response.iter_content(64 * 1024):
        data += chunk
        if len(data) > limit:
            response.close()
            raise AnswerTooLargeError(f"the answer is over the {limit:,} byte cap")
    response._content = bytes(data)  # where requests itself keeps a body it has read
    return response._content


def _size(limit: int) -> str:
    return f"{limit // 1024} KB" if limit < 4 * 1024 * 1024 else f"{limit // (1024 * 1024)} MB"


def _is_refusal(response: requests.Response) -> bool:
    """Whether a 400 is the model's safety system refusing, by the code or type the body gives it."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        return False
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    marks = [holder.get(key) for holder in (error, data, body) for key in ("code", "type", "kind")]
    return any(isinstance(mark, str) and _REFUSAL_WORDS.search(mark) for mark in marks)


def _chat_problem(body: Mapping[str, Any]) -> str | None:
    """Why a chat body is not worth sending, or None: the endpoint needs a model and at least one message."""
    if not isinstance(body.get("model"), str) or not body["model"].strip():
        return "model: expected the chat model's id"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, Mapping) and m.get("role") for m in messages):
        return "messages: expected a list of messages, each with a role"
    if body.get("stream"):
        return "stream: this client reads one answer, not a stream"
    return None


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the failure happened before any byte of the request left this machine."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args and isinstance(exc.args[0], MaxRetryError):
        return isinstance(exc.args[0].reason, (NewConnectionError, ConnectTimeoutError))
    return False


def _short_reason(exc: Exception) -> str:
    # requests reports a read timeout that used up urllib3's retries as a ConnectionError.
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else exc
    if isinstance(exc, requests.Timeout) or isinstance(reason, TimeoutError | ReadTimeoutError | ConnectTimeoutError):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def _json_object(response: requests.Response) -> dict:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        raise MalformedResponseError("The answer was not JSON.", status=response.status_code) from None
    if not isinstance(body, dict):
        raise MalformedResponseError("The answer was not a JSON object.", status=response.status_code)
    return body


def _is_html(response: requests.Response) -> bool:
    """An HTML page where the API speaks JSON: a proxy or CDN in front of it answered, not the API."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml") or response.content[:256].lstrip()[:1] == b"<"


def _json_or_none(response: requests.Response) -> Any:
    """The body as JSON, or None when it is not JSON (an error page, an empty answer)."""
    try:
        return response.json()
    except ValueError:
        return None


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


def _page_title(response: requests.Response) -> str | None:
    match = _TITLE.search(response.content[:65536])
    if not match:
        return None
    return " ".join(html.unescape(match[1].decode("utf-8", "replace")).split())[:200] or None


def _out_of_credits(response: requests.Response, message: str) -> bool:
    """Whether a 403 says the account has no credits left, rather than refusing this one request."""
    body = _json_or_none(response)
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        for holder in (error.get("data"), body.get("data"), error, body):
            if isinstance(holder, dict) and str(holder.get("kind", "")).lower() in OUT_OF_CREDITS_KINDS:
                return True
    return bool(_OUT_OF_CREDITS_WORDS.search(message))


def _message_of(response: requests.Response) -> str:
    """The server's own words, from any error body shape, or the status reason."""
    if _is_html(response):
        title = _page_title(response) or response.reason or "no title"
        return f"an error page from the server's gateway: {title}"[:500]
    body = _json_or_none(response)
    text = None
    if isinstance(body, dict):
        text = error_text(body.get("message")) or error_text(body.get("error")) or error_text(body.get("detail"))
    elif body is not None:
        text = error_text(body)
    return (text or response.reason or f"HTTP {response.status_code}")[:500]


def _request_id(response: requests.Response) -> str | None:
    body = _json_or_none(response)
    return str(body["requestId"]) if isinstance(body, dict) and body.get("requestId") else None


def _retry_after(response: requests.Response) -> float | None:
    header = response.headers.get("Retry-After")
    if not header:
        return None
    try:
        return max(0.0, Retry().parse_retry_after(header))
    except InvalidHeader:
        return None


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    kw = {"status": status, "request_id": _request_id(response)}
    message = _message_of(response)
    if _is_html(response):
        raise ServerError(message, **kw)
    if status == 400 or status == 422:
        raise InvalidRequestError(message, **kw)
    if status == 401:
        raise AuthenticationError(message, **kw)
    if status == 403:
        raise PermissionDeniedError(message, out_of_credits=_out_of_credits(response, message), **kw)
    if status == 404:
        raise NotFoundError(message, **kw)
    if status == 429:
        raise RateLimitError(message, retry_after=_retry_after(response), **kw)
    if status >= 500:
        raise ServerError(message, **kw)
    raise ApiError(message, **kw)
