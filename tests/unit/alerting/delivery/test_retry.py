"""Retry policy (delivery.py): backoff, jitter, deadline, Retry-After, failure classification."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.alerting.delivery.notifications import EMAIL, WEBHOOK, Notification
from pipeline.alerting.delivery.retry import (
    Failure,
    exception_failure,
    expired,
    http_failure,
    next_attempt,
    smtp_failure,
    undeliverable,
    verdict,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TRANSIENT = Failure("connection refused", True)
DAY = 86400.0


def _delay(
    attempts: int,
    failure: Failure = TRANSIENT,
    jitter: float = 0.0,
    retry_max_s: float = 300.0,
    deadline_s: float = DAY,
    now: datetime = T0,
) -> float | None:
    at = next_attempt(attempts, failure, T0, now, deadline_s, retry_max_s, jitter)
    return None if at is None else (at - now).total_seconds()


def test_backoff_doubles_from_the_first_retry() -> None:
    # With jitter 0 the delay is half the base: 1, 2, 4, 8, ... seconds of base.
    assert [_delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert _delay(0) == _delay(1)  # attempts below one count as the first


def test_backoff_caps_at_retry_max() -> None:
    assert _delay(30, retry_max_s=60.0, jitter=0.0) == 30.0
    assert _delay(30, retry_max_s=60.0, jitter=0.999999) == pytest.approx(60.0, abs=1e-3)
    assert _delay(9, retry_max_s=60.0) == _delay(20, retry_max_s=60.0)


@pytest.mark.parametrize("attempts", [1, 3, 8, 20])
@pytest.mark.parametrize("jitter", [0.0, 0.25, 0.5, 0.99])
def test_jitter_keeps_half_the_delay_fixed(attempts: int, jitter: float) -> None:
    base = min(300.0, 2.0 ** (attempts - 1))
    delay = _delay(attempts, jitter=jitter)
    assert delay is not None
    assert base / 2 <= delay < base
    assert delay == pytest.approx(base / 2 + base / 2 * jitter, abs=1e-6)


def test_more_jitter_never_means_an_earlier_retry() -> None:
    delays = [_delay(5, jitter=j / 10) for j in range(10)]
    assert delays == sorted(delays)  # type: ignore[type-var]


def test_permanent_failure_gives_up_at_once() -> None:
    assert _delay(1, Failure("SMTP 550: no such user", False)) is None


def test_deadline_gives_up() -> None:
    # Created at T0 with a one-minute deadline; now is 59.9 s later: the next try is past it.
    now = T0 + timedelta(seconds=59.9)
    assert _delay(1, deadline_s=60.0, now=now) is None
    # Just inside the deadline it still retries.
    assert _delay(1, deadline_s=60.0, now=T0 + timedelta(seconds=59.5)) == 0.5
    # Already past the deadline.
    assert _delay(1, deadline_s=60.0, now=T0 + timedelta(minutes=2)) is None


def test_retry_after_is_respected_but_capped() -> None:
    asked = Failure("HTTP 429", True, retry_after_s=120.0)
    assert _delay(1, asked) == 120.0
    assert _delay(1, asked, retry_max_s=30.0) == 30.0
    # A Retry-After shorter than the backoff does not shorten it.
    short = Failure("HTTP 503", True, retry_after_s=1.0)
    assert _delay(8, short) == 64.0
    # Retry-After past the deadline: give up rather than retry early.
    assert _delay(1, asked, deadline_s=60.0) is None


def test_next_attempt_is_relative_to_now() -> None:
    now = T0 + timedelta(minutes=5)
    at = next_attempt(3, TRANSIENT, T0, now, DAY, 300.0, 0.0)
    assert at == now + timedelta(seconds=2)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (301, False),
        (400, False),
        (404, False),
        (408, True),
        (425, True),
        (429, True),
        (500, True),
        (503, True),
    ],
)
def test_http_failure_classification(status: int, retryable: bool) -> None:
    failure = http_failure(status, "")
    assert failure is not None
    assert failure.retryable is retryable
    assert failure.reason == f"HTTP {status}"
    assert failure.retry_after_s is None


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_http_success_is_no_failure(status: int) -> None:
    assert http_failure(status, "whatever", "10") is None


def test_http_failure_reason_has_a_short_one_line_body_snippet() -> None:
    body = "<html>\n  <body>Service\tUnavailable</body>\n</html>" + "x" * 500
    failure = http_failure(503, body)
    assert failure is not None
    assert failure.reason.startswith("HTTP 503: <html> <body>Service Unavailable</body> </html>")
    assert "\n" not in failure.reason
    assert len(failure.reason) == len("HTTP 503: ") + 200


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), (" 5 ", 5.0), ("soon", None), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_http_retry_after_in_seconds(header: str, expected: float | None) -> None:
    failure = http_failure(429, "slow down", header)
    assert failure is not None
    assert failure.retry_after_s == expected


@pytest.mark.parametrize(
    ("code", "retryable"),
    [(421, True), (451, True), (535, True), (550, False), (554, False)],
)
def test_smtp_failure_classification(code: int, retryable: bool) -> None:
    failure = smtp_failure(code, "5.7.1  Relay\n  denied")
    assert failure.retryable is retryable
    assert failure.reason == f"SMTP {code}: 5.7.1 Relay denied"


def test_smtp_failure_without_a_code_is_connection_trouble_and_transient() -> None:
    failure = smtp_failure(None, "Connection refused " + "!" * 300)
    assert failure.retryable is True
    assert failure.reason.startswith("Connection refused")
    assert len(failure.reason) == 200


def test_a_long_retry_run_stays_capped_and_never_overflows() -> None:
    # With a small retry_max_s and a long deadline a notification sees thousands of attempts
    # (retry_max_s=1 and a day's deadline: ~86,000); the backoff must stay at the cap.
    assert _delay(1100, retry_max_s=1.0, jitter=0.0) == 0.5
    assert _delay(5000, retry_max_s=1.0, jitter=0.5) == 0.75


# ----------------------------------------------------------------- limits and bad requests


def _webhook(url: str = "https://hooks.example.com/x", **content: object) -> Notification:
    stored = {"method": "POST", "url": url, "headers": {}, "body": "{}", **content}
    return Notification("a1b2", "fleet/disk", "hook", WEBHOOK, T0, stored)


def test_verdict_names_the_attempt_cap_and_keeps_the_last_reason() -> None:
    decided = verdict(5, TRANSIENT, T0, T0, DAY, 60.0, 0.0, max_attempts=5)
    assert decided.at is None
    assert decided.reason == (
        "gave up after 5 attempt(s) (attempt cap of 5 reached, [alert] delivery_max_attempts):"
        " connection refused"
    )
    assert verdict(4, TRANSIENT, T0, T0, DAY, 60.0, 0.0, max_attempts=5).at is not None


def test_verdict_says_why_it_gave_up() -> None:
    permanent = verdict(1, Failure("HTTP 404", False), T0, T0, DAY, 60.0, 0.0)
    assert permanent.reason == "gave up after 1 attempt(s) (permanent error): HTTP 404"
    late = verdict(3, TRANSIENT, T0, T0 + timedelta(hours=2), 3600.0, 60.0, 0.0)
    assert "deadline passed, [alert] delivery_deadline_s" in late.reason
    retried = verdict(1, TRANSIENT, T0, T0, DAY, 60.0, 0.0)
    assert retried.at is not None and retried.reason == "connection refused"


def test_expired_at_the_cap_or_the_deadline() -> None:
    deadline = T0 + timedelta(hours=1)
    assert expired(19, deadline, T0, max_attempts=20) is None
    assert "attempt cap of 20" in str(expired(20, deadline, T0, max_attempts=20))
    assert "deadline passed" in str(expired(0, deadline, deadline, max_attempts=20))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://hooks.example.com:99999/x", "Port out of range"),
        ("http://hooks.example.com:8o8o/x", "could not be cast to integer"),
        ("http://hooks.example.com:0/x", "port is 0"),
        ("http:///x", "has no host"),
        ("ftp://hooks.example.com/x", "scheme 'ftp'"),
        ("http://hooks.example.com/x\r\nHost: evil", "control character"),
        ("http://[::1/x", "Invalid IPv6 URL"),
        ("", "scheme ''"),
    ],
)
def test_a_request_that_can_never_be_made_is_undeliverable(url: str, expected: str) -> None:
    problem = undeliverable(_webhook(url))
    assert problem is not None and expected in problem
    assert "\r" not in problem and "\n" not in problem


@pytest.mark.parametrize(
    "headers",
    [{"X-Trace": "a\r\nSet-Cookie: x=1"}, {"X-Trace": "a\x00b"}, {"Bad Name": "v"}, {"X\n": "v"}],
)
def test_control_characters_in_headers_are_undeliverable(headers: dict[str, str]) -> None:
    problem = undeliverable(_webhook(headers=headers))
    assert problem is not None and "header" in problem
    assert "Set-Cookie" not in problem  # the value is never echoed: it may hold a secret


def test_control_characters_in_ids_and_addresses_are_undeliverable() -> None:
    n = replace(_webhook(), rule_id="fleet/disk\r\nX-Injected: 1")
    assert "rule id 'fleet/disk\\r\\nX-Injected: 1'" in str(undeliverable(n))
    n = replace(_webhook(), alert_key="host-1\n")
    assert "alert key" in str(undeliverable(n))
    mail = Notification("a1b2", "r", "mail", EMAIL, T0, {"to": ["ops@example.com\r\nBcc: x"]})
    assert "the to address" in str(undeliverable(mail))


def test_a_well_formed_request_may_be_tried() -> None:
    assert undeliverable(_webhook(headers={"X-Trace": "a\tb", "Content-Type": "x/y"})) is None
    assert undeliverable(_webhook("http://[::1]:8080/x?a=b")) is None
    mail = Notification("a1b2", "r", "mail", EMAIL, T0, {"to": ["ops@example.com"]})
    assert undeliverable(mail) is None


def test_an_unexpected_sender_error_is_permanent_unless_it_is_the_network() -> None:
    assert exception_failure(ValueError("Invalid port")).retryable is False
    assert exception_failure(OverflowError("port must be 0-65535.")).retryable is False
    assert exception_failure(ConnectionResetError("reset")).retryable is True
    assert exception_failure(TimeoutError()).reason == "TimeoutError"
