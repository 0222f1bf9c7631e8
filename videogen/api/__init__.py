"""The vendor's HTTP API as this app speaks it: the client, its typed errors, and the answers it returns.

`Client.create` and `Client.fetch` speak the video endpoints; `Client.chat` the chat endpoint (`CHAT_PATH`),
whose answer is returned as the JSON object it is (videogen/rewrite.py reads it); `Client.generate_image` the
images endpoint, whose answer is an `ImageResult` (videogen/start_frames.py keeps its picture).

Only the names below are for use outside this package; `_client`, `_errors` and `_answers` may change.
"""

from ._answers import CREDITS_PER_USD, FINAL_SPELLINGS, Answer, Status, error_text
from ._client import (
    CHAT_PATH,
    IMAGE_READ_TIMEOUT,
    MAX_ANSWER_BYTES,
    MAX_IMAGE_ANSWER_BYTES,
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
    RefusedError,
)
from ._images import FLAGGED_REASON, GeneratedImage, ImageResult

__all__ = [
    "CHAT_PATH",
    "CREDITS_PER_USD",
    "FINAL_SPELLINGS",
    "FLAGGED_REASON",
    "IMAGE_READ_TIMEOUT",
    "MAX_ANSWER_BYTES",
    "MAX_IMAGE_ANSWER_BYTES",
    "Answer",
    "AnswerTooLargeError",
    "ApiError",
    "AuthenticationError",
    "Client",
    "GeneratedImage",
    "ImageResult",
    "InvalidRequestError",
    "MalformedResponseError",
    "NetworkError",
    "NotFoundError",
    "NotSavedYetError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "RefusedError",
    "Status",
    "error_text",
    "is_loopback_host",
    "key_hint",
    "read_capped",
    "session_for",
]
