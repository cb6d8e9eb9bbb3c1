"""When to try a notification again, and when to give up. Pure.

A failed attempt is either permanent (the server said no in a way that repeating cannot fix:
SMTP 5xx, HTTP 4xx other than 408/425/429) and the notification fails at once with the reason,
or transient (connection refused, timeout, SMTP 4xx, HTTP 5xx/429) and it is retried with
capped exponential backoff, until `delivery_deadline_s` after the firing or
`delivery_max_attempts` attempts; then it is given up and recorded as failed with the last
reason. The outbox applies the same two limits when it claims a notification (`expired`), so
one past them is never tried again, even after a crash.

A notification whose request can never be made (an invalid URL or port rendered from log
data, a control character in a header or an id) is refused before any attempt
(`undeliverable`) and fails permanently with the reason, instead of being retried forever.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.alerting.delivery.notifications import EMAIL, WEBHOOK, Notification

FIRST_RETRY_S = 1.0
DEFAULT_MAX_ATTEMPTS = 100  # [alert] delivery_max_attempts
_SHOWN = 60

# RFC 9110: a method and a header name are tokens; a header value may hold visible
# characters, spaces and tabs, never CR, LF, NUL or another control character.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")  # a URL also holds no spaces or tabs


@dataclass(frozen=True)
class Failure:
    """Why one attempt failed, and whether trying again may help."""

    reason: str
    retryable: bool
    retry_after_s: float | None = None  # what the server asked for (HTTP Retry-After)


@dataclass(frozen=True)
class Verdict:
    """After a failed attempt: when to try again (None: never), and the reason to record."""

    at: datetime | None
    reason: str


def next_attempt(
    attempts: int,
    failure: Failure,
    created: datetime,
    now: datetime,
    deadline_s: float,
    retry_max_s: float,
    jitter: float,
    max_attempts: int | None = None,
) -> datetime | None:
    """The time of the next attempt after `attempts` failed ones, or None to give up.

    `jitter` in [0, 1) spreads retries of many notifications that failed together (half the
    delay is fixed, half random), so a mail server coming back is not hit by all at once.
    `max_attempts` None: only the deadline limits the attempts.
    """
    if not failure.retryable or (max_attempts is not None and attempts >= max_attempts):
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


def verdict(
    attempts: int,
    failure: Failure,
    created: datetime,
    now: datetime,
    deadline_s: float,
    retry_max_s: float,
    jitter: float,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Verdict:
    """`next_attempt`, with the reason to record: the failure's own while it is retried, or
    why it was given up (permanent error, attempt cap, deadline) followed by it."""
    at = next_attempt(
        attempts, failure, created, now, deadline_s, retry_max_s, jitter, max_attempts
    )
    if at is not None:
        return Verdict(at, failure.reason)
    if not failure.retryable:
        why = "permanent error"
    elif attempts >= max_attempts:
        why = _cap_reached(max_attempts)
    else:
        why = _DEADLINE_PASSED
    return Verdict(None, f"gave up after {attempts} attempt(s) ({why}): {failure.reason}")


def expired(
    attempts: int, deadline: datetime, now: datetime, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> str | None:
    """Why a stored notification must not be tried again, or None if it may be.

    Checked when the outbox claims a notification, so that a limit holds even when the attempt
    that reached it never got to record its failure (a crash, a lease that ran out).
    """
    if attempts >= max_attempts:
        return _cap_reached(max_attempts)
    if now >= deadline:
        return _DEADLINE_PASSED
    return None


# Why a notification was given up, the same words after a failed attempt and at claim time.
_DEADLINE_PASSED = "deadline passed, [alert] delivery_deadline_s"


def _cap_reached(max_attempts: int) -> str:
    return f"attempt cap of {max_attempts} reached, [alert] delivery_max_attempts"


def undeliverable(notification: Notification) -> str | None:
    """Why this notification can never be sent as stored, or None if it may be tried.

    Checks only what no retry can change: the shape of the request (URL, port, method,
    header names and values, addresses) and the ids that become headers. Which hosts may be
    reached is decided elsewhere, after the URL is rendered and resolved.
    """
    for problem in _problems(notification):
        return problem
    return None


def exception_failure(err: BaseException) -> Failure:
    """A sender raised something other than a classified delivery error.

    Network trouble (OSError, which includes timeouts) may pass; anything else came from
    building the request out of the stored notification, which the next attempt would
    build the same way, so it is permanent.
    """
    text = " ".join(str(err).split())[:200]
    reason = f"{type(err).__name__}: {text}" if text else type(err).__name__
    if isinstance(err, OSError):
        return Failure(reason, True)
    return Failure(f"cannot make the request: {reason}", False)


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


def _problems(n: Notification) -> Iterator[str]:
    for name, value in (
        ("id", n.id),
        ("rule id", n.rule_id),
        ("action id", n.action_id),
        ("alert key", n.alert_key),
        ("alert status", n.alert_status),
    ):
        if value is not None and _CONTROL.search(str(value)):
            yield f"the {name} {_show(value)} holds a control character (CR, LF, ...)"
    if n.type == WEBHOOK:
        yield from _webhook_problems(n.content)
    elif n.type == EMAIL:
        yield from _email_problems(n.content)
    else:
        yield f"unknown notification type {_show(n.type)}"


def _webhook_problems(content: Mapping[str, Any]) -> Iterator[str]:
    method = str(content.get("method") or "")
    if not _TOKEN.fullmatch(method):
        yield f"the method {_show(method)} is not an HTTP method"
    yield from _url_problems(str(content.get("url") or ""))
    for key, value in (content.get("headers") or {}).items():
        if not _TOKEN.fullmatch(str(key)):
            yield f"the header name {_show(key)} is not a valid HTTP header name"
        elif _CONTROL.search(str(value)):
            yield f"the value of header {key} holds a control character (CR, LF, ...)"
    username = content.get("username")
    if username is not None and (":" in str(username) or _CONTROL.search(str(username))):
        yield "the basic-auth username holds ':' or a control character"


def _url_problems(url: str) -> Iterator[str]:
    if _URL_FORBIDDEN.search(url):
        yield "the URL holds a space or a control character (CR, LF, ...)"
        return
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as err:
        yield f"the URL is not valid: {err}"
        return
    if parts.scheme not in ("http", "https"):
        yield f"the URL's scheme {_show(parts.scheme)} is not http or https"
    elif not parts.hostname:
        yield "the URL has no host"
    elif port == 0:
        yield "the URL's port is 0 (expected 1 to 65535)"


def _email_problems(content: Mapping[str, Any]) -> Iterator[str]:
    for field in ("from", "to", "cc", "bcc", "reply_to"):
        value = content.get(field)
        values = value if isinstance(value, list) else [value] if value else []
        for address in values:
            if _CONTROL.search(str(address)):
                yield f"the {field} address {_show(address)} holds a control character"


def _show(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "...")
