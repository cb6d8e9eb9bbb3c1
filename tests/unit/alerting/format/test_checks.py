"""What Watcher refuses at PUT beyond the schema (format/checks.py), through `validate_rule`,
the check `edgewatch rules validate` and the alert service's loader both run."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pipeline.alerting.format.checks import CREDENTIAL_ADVICE
from pipeline.alerting.format.validate import validate_rule

WATCH: dict[str, Any] = {
    "trigger": {"schedule": {"interval": "5m"}},
    "input": {"simple": {}},
    "condition": {"always": {}},
    "actions": {"log": {"logging": {"text": "x"}}},
}


def problems_of(change: Any, execute_body: bool = False) -> list[tuple[str, str]]:
    watch = copy.deepcopy(WATCH)
    change(watch)
    data = {"watch": watch} if execute_body else watch
    return [(p.pointer, p.message) for p in validate_rule(data, "rule.json")]


def schedule(value: dict[str, Any]) -> Any:
    return lambda w: w["trigger"].update(schedule=value)


def test_unknown_timezone_is_refused() -> None:
    """Watcher refuses `"timezone": "Pangea/Tethys"` at PUT ("invalid timezone"):
    x-pack/plugin/watcher/qa/rest/src/yamlRestTest/resources/rest-api-spec/test/
    put_watch/11_timezoned_schedules.yml."""
    change = schedule({"timezone": "Pangea/Tethys", "daily": {"at": "noon"}})
    assert problems_of(change) == [
        (
            "/trigger/schedule/timezone",
            "unknown timezone 'Pangea/Tethys' (expected a zone id like Europe/Berlin or an offset"
            " like +02:00)",
        )
    ]
    # The zone ids Watcher accepts (java.time's, case-insensitively) and offsets pass.
    for zone in ("Europe/Berlin", "europe/berlin", "UTC", "+02:00"):
        assert problems_of(schedule({"timezone": zone, "cron": "0 0 9 * * ?"})) == [], zone


def test_invalid_cron_is_refused_at_its_pointer() -> None:
    """Watcher's CronSchedule.Parser refuses an invalid expression ("could not parse [cron]
    schedule"), one of a list included: x-pack/plugin/watcher/src/main/java/org/elasticsearch/
    xpack/watcher/trigger/schedule/CronSchedule.java."""
    assert problems_of(schedule({"cron": "0 0 25 * * ?"})) == [
        (
            "/trigger/schedule/cron",
            "invalid cron expression '0 0 25 * * ?': hour values must be between 0 and 23",
        )
    ]
    assert problems_of(schedule({"cron": ["0 0 9 * * ?", "0 0 9 * *"]})) == [
        (
            "/trigger/schedule/cron/1",
            "cron expression '0 0 9 * *' must have 6 or 7 fields"
            " (seconds minutes hours day-of-month month day-of-week [year])",
        )
    ]
    assert problems_of(schedule({"cron": "0 0 9 ? * MON-FRI 2030"})) == []


def test_calendar_schedules_are_checked_as_their_crons() -> None:
    """Watcher turns a monthly schedule into cron (MonthlySchedule.crons) and parses it with its
    Quartz-derived Cron, which refuses `L` beside other days of the month ("Support for
    specifying 'L' and 'LW' with other days of the month is not implemented"):
    x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/trigger/schedule/
    support/MonthTimes.java, .../core/scheduler/Cron.java. Two entries do what it cannot."""
    assert problems_of(schedule({"monthly": {"on": ["last_day", 15], "at": "09:00"}})) == [
        (
            "/trigger/schedule/monthly",
            "invalid cron expression '0 0 9 15,L * ?': 'L' and 'W' cannot be combined with"
            " other days of the month",
        )
    ]
    two = [{"on": "last_day", "at": "09:00"}, {"on": 15, "at": "09:00"}]
    assert problems_of(schedule({"monthly": two})) == []


def test_interval_under_one_second_is_refused() -> None:
    """Watcher: "interval can't be lower than 1000 ms" (IntervalSchedule.Parser,
    x-pack/plugin/watcher/src/main/java/org/elasticsearch/xpack/watcher/trigger/schedule/
    IntervalSchedule.java); the schema already says it (whole seconds, at least 1)."""
    assert problems_of(schedule({"interval": 0})) == [
        ("/trigger/schedule/interval", "0 is less than the minimum, 1")
    ]
    assert problems_of(schedule({"interval": 8.64e13})) == [
        ("/trigger/schedule/interval", "interval 86400000000000.0 is too long")
    ]
    assert problems_of(schedule({"interval": "500ms"})) == [
        ("/trigger/schedule/interval", "'500ms' is not an interval like 30s, 5m, 1h, 1d, 2w")
    ]


def test_pointers_in_an_execute_body_start_at_watch() -> None:
    """The `_execute` body form (`{"watch": {...}}`, the execute watch API's inline watch:
    https://www.elastic.co/guide/en/elasticsearch/reference/current/watcher-api-execute-watch.html)
    keeps its pointers relative to the file."""
    change = schedule({"timezone": "Mars/Olympus", "cron": "0 0 9 * * ?"})
    assert [pointer for pointer, _ in problems_of(change, execute_body=True)] == [
        "/watch/trigger/schedule/timezone"
    ]


def http_input(request: dict[str, Any]) -> Any:
    base = {"host": "example.com", "port": 443, "scheme": "https"}
    return lambda w: w.update(input={"http": {"request": {**base, **request}}})


def test_http_input_password_is_refused() -> None:
    """Watcher's http input takes `auth.basic.password` (https://www.elastic.co/guide/en/
    elasticsearch/reference/current/input-http.html); edgewatch refuses it as it refuses email
    and webhook passwords, and says where the password goes instead."""
    change = http_input({"auth": {"basic": {"username": "u", "password": "p"}}})
    assert problems_of(change) == [("/input/http/request/auth/basic/password", CREDENTIAL_ADVICE)]
    assert "http.input_password" in CREDENTIAL_ADVICE
    assert problems_of(http_input({"auth": {"basic": {"username": "u"}}})) == []


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        ("Basic dXNlcjpwYXNz", True),
        ("Bearer abc.def.ghi", True),
        ("abc123", True),
        ({"source": "ApiKey c2VjcmV0"}, True),
        ("Bearer {{ctx.metadata.token}}", True),
        ("Bearer {{ctx.payload.login.token}}", False),
        ("{{ctx.payload.login.header}}", False),
        ("", False),
        ("Basic {{ctx.payload.user}} c2VjcmV0", True),
    ],
)
def test_literal_authorization_header_is_refused(value: object, refused: bool) -> None:
    """Headers of Watcher's http input are templates (https://www.elastic.co/guide/en/
    elasticsearch/reference/current/input-http.html): a secret written in the rule (or in its
    metadata) is refused, one the execution produces (an earlier chain input) is not. The
    headers are those the watch record redacts (pipeline/redact.py)."""
    for name in ("Authorization", "proxy-authorization", "X-Api-Key"):
        found = problems_of(http_input({"headers": {name: value, "Accept": "text/plain"}}))
        expected = f"the {name} header holds a literal secret; {CREDENTIAL_ADVICE}"
        assert found == ([(f"/input/http/request/headers/{name}", expected)] if refused else [])


def test_cookie_names_around_a_template_are_not_secrets() -> None:
    """A cookie header may name its cookies around templates (Watcher's http input headers
    are templates: https://www.elastic.co/guide/en/elasticsearch/reference/current/
    input-http.html); a literal cookie value is refused."""
    fine = "session={{ctx.payload.login.cookie}}; lang={{ctx.payload.login.lang}}"
    assert problems_of(http_input({"headers": {"Cookie": fine}})) == []
    literal = "session={{ctx.payload.login.cookie}}; other=s3cr3t"
    assert [p for p, _ in problems_of(http_input({"headers": {"Cookie": literal}}))] == [
        "/input/http/request/headers/Cookie"
    ]


def test_credentials_inside_chain_inputs_and_urls() -> None:
    """Chain inputs (https://www.elastic.co/guide/en/elasticsearch/reference/current/
    input-chain.html) are checked too, and a URL with a password in it is refused."""
    inner = {"http": {"request": {"url": "https://u:secret@example.com/x"}}}

    def change(w: dict[str, Any]) -> None:
        w["input"] = {"chain": {"inputs": [{"first": {"simple": {}}}, {"a/b": inner}]}}

    assert problems_of(change) == [
        (
            "/input/chain/inputs/1/a~1b/http/request/url",
            f"the URL holds a password; {CREDENTIAL_ADVICE}",
        )
    ]
