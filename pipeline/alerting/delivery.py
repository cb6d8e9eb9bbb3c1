"""When to try a notification again, and when to give up. Pure.

A failed attempt is either permanent (the server said no in a way that repeating cannot fix:
SMTP 5xx, HTTP 4xx other than 408/425/429) and the notification fails at once with the reason,
or transient (connection refused, timeout, SMTP 4xx, HTTP 5xx/429) and it is retried with
capped exponential backoff, until `delivery_deadline_s` after the firing; then it is given up
and recorded as failed with the last reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_RETRY_S = 1.0


@dataclass(frozen=True)
class Failure:
    """Why one attempt failed, and whether trying again may help."""

    reason: str
    retryable: bool
    retry_after_s: float | None = None  # what the server asked for (HTTP Retry-After)


def next_attempt(
    attempts: int,
    failure: Failure,
    created: datetime,
    now: datetime,
    deadline_s: float,
    retry_max_s: float,
    jitter: float,
) -> datetime | None:
    """The time of the next attempt after `attempts` failed ones, or None to give up.

    `jitter` in [0, 1) spreads retries of many notifications that failed together (half the
    delay is fixed, half random), so a mail server coming back is not hit by all at once.
    """
    if not failure.retryable:
        return None
    # The exponent is capped: a day of 1-second retries must not overflow a float.
    base = min(retry_max_s, FIRST_RETRY_S * 2.0 ** min(max(0, attempts - 1), 60))
    delay = base / 2 + base / 2 * jitter
    if failure.retry_after_s is not None:
        delay = max(delay, min(failure.retry_after_s, retry_max_s))
    at = now + timedelta(seconds=delay)
    if at > created + timedelta(seconds=deadline_s):
        return None
    return at


def http_failure(status: int, body: str, retry_after: str | None = None) -> Failure | None:
    """None for a 2xx answer, else what the status means for retrying."""
    if 200 <= status < 300:
        return None
    retryable = status in (408, 425, 429) or status >= 500
    after = None
    if retry_after is not None and retry_after.strip().isdigit():
        after = float(retry_after.strip())
    snippet = " ".join(body.split())[:200]
    return Failure(f"HTTP {status}" + (f": {snippet}" if snippet else ""), retryable, after)


def smtp_failure(code: int | None, message: str) -> Failure:
    """An SMTP error: 4xx (and no code: connection trouble) is transient, 5xx permanent.

    Authentication failures (535) count as transient: they are a configuration error an
    operator can fix while the notification waits, and giving up would lose the alert.
    """
    text = " ".join(message.split())[:200]
    if code is None:
        return Failure(text, True)
    return Failure(f"SMTP {code}: {text}", code < 500 or code == 535)
