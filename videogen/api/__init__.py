"""The vendor's HTTP API as this app speaks it: the client, its typed errors, and the answers it returns.

`Client.create` and `Client.fetch` speak the video endpoints; `Client.chat` the chat endpoint (`CHAT_PATH`),
whose answer is returned as the JSON object it is (videogen/rewrite.py reads it).

Only the names below are for use outside this package; `_client`, `_errors` and `_answers` may change.
"""

from ._answers import CREDITS_PER_USD, FINAL_SPELLINGS, Answer, Status, error_text
from ._client import (
    CHAT_PATH,
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
    "CHAT_PATH",
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
