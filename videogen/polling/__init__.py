"""Background work on pending generations: when to poll (`_schedule`, `_runtimes`), the poller that
fetches and records (`_poller`), and the guarded download of finished videos (`_downloads`), which also
fetches an image model's picture by the same rules (`download_image`).

Only the names below are for use outside this package.
"""

from ._downloads import (
    IMAGE_LIMITS,
    MAX_IMAGE_BYTES,
    DownloadError,
    DownloadLimits,
    address_refusal,
    check_hop,
    download_image,
    download_video,
    is_allowed_video_url,
    looks_like_image,
    looks_like_video,
    video_filename,
)
from ._poller import LEASE_SECONDS, LOST_MESSAGE, NO_LINK_MESSAGE, NOT_FOUND_WINDOW, Poller
from ._runtimes import MIN_SAMPLES, PollPlan, RunTimeEstimate, RunTimes, learn, poll_plan
from ._schedule import Schedule, error_backoff

__all__ = [
    "IMAGE_LIMITS",
    "LEASE_SECONDS",
    "LOST_MESSAGE",
    "MAX_IMAGE_BYTES",
    "MIN_SAMPLES",
    "NOT_FOUND_WINDOW",
    "NO_LINK_MESSAGE",
    "DownloadError",
    "DownloadLimits",
    "RunTimeEstimate",
    "PollPlan",
    "Poller",
    "RunTimes",
    "Schedule",
    "address_refusal",
    "check_hop",
    "download_image",
    "download_video",
    "error_backoff",
    "is_allowed_video_url",
    "learn",
    "looks_like_image",
    "looks_like_video",
    "poll_plan",
    "video_filename",
]
