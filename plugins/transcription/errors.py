"""What can go wrong with one video, sorted by what Airflow should do about it.

- `Unavailable` (removed, private, geo- or age-restricted, unsupported, not media, too long): recorded as a skip
  with its reason; retrying cannot help.
- Transient trouble (network errors, HTTP 429 and 5xx, and 403, which YouTube answers to stale download URLs): the
  original error propagates and Airflow retries with backoff.
- Anything else is a bug, ours or an extractor's: it propagates too, and fails loudly once retries run out.
"""

from __future__ import annotations

from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, ExtractorError

TRANSIENT_HTTP = {403, 408, 425, 429}
# Sites say "slow down" in words too; YouTube's bot check is an "expected" error that passes with time (or cookies).
RETRY_HINTS = ("not a bot", "rate-limit", "rate limit", "too many requests", "try again later")


class Unavailable(Exception):
    """This video cannot be transcribed, now or on a retry; the message is the reason the report shows."""


def _causes(error: BaseException | None):
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        yield error
        error = getattr(error, "cause", None) or error.__cause__ or error.__context__


def classify(error: DownloadError) -> str:
    """"permanent" (the video is the problem), "transient" (the network or the site's load), or "unknown"."""
    causes = list(_causes(error.exc_info[1] if error.exc_info else None))
    for cause in causes:
        if isinstance(cause, HTTPError):
            return "transient" if cause.status >= 500 or cause.status in TRANSIENT_HTTP else "permanent"
    if any(isinstance(cause, TransportError) for cause in causes):
        return "transient"
    if any(hint in str(error).lower() for hint in RETRY_HINTS):
        return "transient"
    if any(isinstance(cause, ExtractorError) and cause.expected for cause in causes):
        return "permanent"
    return "unknown"
