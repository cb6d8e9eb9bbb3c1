"""Post to the HTTP receiver fixture and read the requests back."""

from __future__ import annotations

import httpx

from tests.fixtures.http_receiver import HttpReceiver


def test_requests_are_recorded_and_scripted_failures_answered(http_receiver: HttpReceiver) -> None:
    http_receiver.respond_next(503)
    with httpx.Client(base_url=http_receiver.url, timeout=5) as client:
        first = client.post(
            "/hooks/alert",
            params={"rule": "spike"},
            json={"hosts": 3},
            headers={"Idempotency-Key": "abc"},
        )
        second = client.post("/hooks/alert", json={"hosts": 3})
    assert (first.status_code, second.status_code) == (503, 200)

    got = http_receiver.wait_for(2)
    assert got[0].method == "POST"
    assert got[0].path == "/hooks/alert"
    assert got[0].query == {"rule": ["spike"]}
    assert got[0].headers["idempotency-key"] == "abc"
    assert got[0].body == b'{"hosts":3}'
