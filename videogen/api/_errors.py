"""Typed errors for everything that can go wrong talking to the API.

Each class says what a person should do next; the UI picks its wording from the
class, the server's own words are in `message`. No error text ever holds the key.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base class. `status` is the HTTP status, or None when no answer came."""

    #: Whether repeating the same request later can succeed.
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        prefix = f"HTTP {self.status}: " if self.status else ""
        return prefix + self.message


class InvalidRequestError(ApiError):
    """400: the server refused the body. The message names the field."""


class RefusedError(InvalidRequestError):
    """The model would not make it: a moderation or safety refusal, or an answer with no picture that says why.

    `message` is the server's reason. Repeating the same request will not help; another prompt may.
    """


class AuthenticationError(ApiError):
    """401: the key is missing or wrong."""


class PermissionDeniedError(ApiError):
    """403: this request was refused, or, with `out_of_credits`, the whole account is.

    The API has answered 403 for one model while another worked on the same key, so
    only the vendor's out-of-credits answer (`error.data.kind`, or its words) speaks
    for every request; any other 403 is this request's own refusal.
    """

    def __init__(self, message: str, *, out_of_credits: bool = False, **kw):
        super().__init__(message, **kw)
        self.out_of_credits = out_of_credits


class NotFoundError(ApiError):
    """404: wrong path, or the server does not know this generation id."""


class RateLimitError(ApiError):
    """429: too many requests. `retry_after` is the server's requested wait in seconds, if it gave one."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx on a request that is safe to repeat."""

    retryable = True


class NetworkError(ApiError):
    """No answer: connection refused, reset or timed out, on a request that is safe to repeat."""

    retryable = True


class MalformedResponseError(ApiError):
    """The server answered 2xx with a body that could not be read."""

    retryable = True


class OutcomeUnknownError(ApiError):
    """A create may or may not have started a (paid) generation.

    Raised for a timeout after the request was sent, a dropped connection, a 5xx
    or an unreadable 2xx on create. It is never retried automatically: the person
    decides whether to submit again.
    """


class NotSavedYetError(ApiError):
    """The server accepted the create, so it is paid for, but the history could not record it yet.

    It is kept in the journal (videogen/store/_journal.py) and appears in the history once the store takes writes
    again; `generation_id` says which it is. Not an outcome to retry: the generation exists.
    """

    def __init__(self, message: str, *, generation_id: str, **kw):
        super().__init__(message, **kw)
        self.generation_id = generation_id
