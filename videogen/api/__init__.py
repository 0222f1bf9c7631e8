"""The vendor's HTTP API as this app speaks it: the client, its typed errors, and the answers it returns.

Only the names below are for use outside this package; `_client`, `_errors` and `_answers` may change.
"""

from ._answers import CREDITS_PER_USD, FINAL_SPELLINGS, Answer, Status, error_text
from ._client import (
    MAX_ANSWER_BYTES,
    AnswerTooLargeError,
    Client,
    is_loopback_host,
    key_hint,
    read_capped,
    session_for,
)
from ._errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    NotSavedYetError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
)

__all__ = [
    "CREDITS_PER_USD",
    "FINAL_SPELLINGS",
    "MAX_ANSWER_BYTES",
    "Answer",
    "AnswerTooLargeError",
    "ApiError",
    "AuthenticationError",
    "Client",
    "InvalidRequestError",
    "MalformedResponseError",
    "NetworkError",
    "NotFoundError",
    "NotSavedYetError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "Status",
    "error_text",
    "is_loopback_host",
    "key_hint",
    "read_capped",
    "session_for",
]
