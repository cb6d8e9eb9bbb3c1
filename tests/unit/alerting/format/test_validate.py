"""The watch JSON Schema and its validator, proven on every real watch of the shared corpus.

Every `*.json` under `corpus/watches` is accounted for: either it is a watch, listed in
`WATCHES` with the exact problems expected of it, or it is named by `NOT_A_WATCH` (index
mappings, stored scripts, test events...). A file added to the corpus fails the suite until
it is listed here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.alerting.format.validate import (
    Problem,
    validate_file,
    validate_paths,
    validate_rule,
    watch_schema,
)

# Elastic's sample sends the cluster's own password in its http input; edgewatch takes it from
# http.input_password (format/checks.py).
HTTP_PASSWORD = (
    "/input/chain/inputs/0/first/http/request/auth/basic/password",
    "credentials do not belong in a rule file (rules are kept in git): give auth.basic.username"
    " alone, and edgewatch sends http.input_password (EDGEWATCH_HTTP_INPUT_PASSWORD) to the hosts"
    " of http.input_credential_hosts",
)

SLACK = (
    "/actions/notify-slack/slack",
    "action type 'slack' is not supported by edgewatch (supported: logging, index, email, webhook)",
)

# Kibana console syntax ("""...""" strings, // comments, raw newlines in strings) is not JSON;
# the corpus keeps a `.strict.json` conversion next to each such original.
CONSOLE_SYNTAX = {
    "large_shard_watch/watch.json": "line 62, column 19: Expecting ',' delimiter",
    "ml_examples/chained_watch.json": (
        "line 8, column 39: Expecting property name enclosed in double quotes"
    ),
    "ml_examples/default_ml_watch.json": "line 95, column 41: Expecting ',' delimiter",
    "ml_examples/default_ml_watch_email.json": "line 95, column 39: Expecting ',' delimiter",
    "ml_examples/multiple_jobs_watch.json": (
        "line 8, column 39: Expecting property name enclosed in double quotes"
    ),
    "secan_dns_tunnel/unique_hostnames_watch.json": (
        "line 84, column 126: Invalid control character"
    ),
}

_GITLAB = "gitlab_runbooks/"
_DELKE = "delke-gitlab-com."

# Every watch of the corpus -> the exact (pointer, message) problems expected of it.
WATCHES: dict[str, list[tuple[str, str]]] = {
    # Elastic's sample watches.
    "cpu_iowait_hosts/watch.json": [],
    "errors_in_logs/watch.json": [],
    "filesystem_usage/watch.json": [],
    "lateral_movement_in_user_comm/watch.json": [],
    "monitoring_cluster_health/watch.json": [],
    "monitoring_free_disk_space/watch.json": [],
    "new_process_started/watch.json": [],
    "port_scan/watch.json": [],
    "system_fails_to_provide_data/watch.json": [],
    "twitter_trends/watch.json": [],
    "unexpected_account_activity/watch.json": [],
    "large_shard_watch/watch.strict.json": [HTTP_PASSWORD],
    # Machine-learning examples.
    "ml_examples/bucket_watch.json": [],
    "ml_examples/bucket_record_chain_watch.json": [],
    "ml_examples/chained_watch.strict.json": [],
    "ml_examples/default_ml_watch.strict.json": [],
    "ml_examples/default_ml_watch_email.strict.json": [],
    "ml_examples/multiple_jobs_watch.strict.json": [],
    # Security examples; the .inline.json variants and the _execute bodies included.
    "secan_auditd/example_1/new_process.json": [],
    "secan_auditd/example_1/new_process.inline.json": [],
    "secan_auditd/example_2/unusual_process.json": [],
    "secan_auditd/example_2/unusual_process.inline.json": [],
    "secan_dns_tunnel/unique_hostnames_watch.strict.json": [],
    "secan_ssh/brute_force_login.json": [],
    "secan_ssh/brute_force_login.inline.json": [],
    "secan_ssh/successful_login_external.json": [],
    "secan_ssh/successful_login_external.inline.json": [],
    # GitLab's production watches: the webhook ones load, the Slack ones are refused.
    f"{_GITLAB}log_gprd__{_DELKE}admin-service-account-logged-into/"
    f"{_DELKE}admin-service-account-logged-into.json": [],
    f"{_GITLAB}log_gprd__{_DELKE}employment-automation-ci-cd-settings-accessed-api/"
    f"{_DELKE}employment-automation-ci-cd-settings-accessed-api.json": [],
    f"{_GITLAB}log_gprd__{_DELKE}new-admin-account/{_DELKE}new-admin-account.json": [],
    f"{_GITLAB}log_gprd__gitaly_abuse_dashboards/gitaly_abuse_dashboards.json": [],
    f"{_GITLAB}log_gprd__get_request_primary_p50/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__gitaly_abuse_1/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__incident_3370_early_warning/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__job_limit_exceeded/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__ops-runner-hit-gitlab/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__rails_duration_p95/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__rails_gitaly_calls_p95/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__rails_memory_usage/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__rails_scanning_by_ip/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__rails_sql_n_plus_1_p95/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__rails_subtransactions/watch.rendered.json": [SLACK],
    f"{_GITLAB}log_gprd__registry_gcs_connection_resets/watch.rendered.json": [SLACK],
    f"{_GITLAB}nonprod-log__no_method_error/watch.rendered.json": [SLACK],
    f"{_GITLAB}nonprod-log__segfault_crash/watch.rendered.json": [SLACK],
    # The console-syntax originals: one JSON syntax problem each.
    **{name: [("", f"not valid JSON at {where}")] for name, where in CONSOLE_SYNTAX.items()},
}


def not_a_watch(relative: str) -> str | None:
    """Why a corpus JSON file is not a watch, or None if it should be one."""
    parts = relative.split("/")
    if parts[-1] == "mapping.json":
        return "index mapping"
    if parts[-1] == "ingest.json":
        return "ingest pipeline"
    if len(parts) > 1 and parts[-2] == "scripts":
        return "stored script"
    if len(parts) > 1 and parts[-2] == "tests":
        return "test events and expected output"
    return None


def corpus_json(corpus: Path) -> list[str]:
    root = corpus / "watches"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json"))


def test_every_corpus_json_file_is_accounted_for(corpus: Path) -> None:
    watches = {name for name in corpus_json(corpus) if not_a_watch(name) is None}
    assert watches == set(WATCHES)


def test_files_that_are_not_watches_really_are_not(corpus: Path) -> None:
    others = [name for name in corpus_json(corpus) if not_a_watch(name) is not None]
    assert len(others) > 30
    for name in others:
        data = json.loads((corpus / "watches" / name).read_text())
        assert not (isinstance(data, dict) and ("trigger" in data or "watch" in data)), name


@pytest.mark.parametrize("name", sorted(WATCHES))
def test_corpus_watch(corpus: Path, name: str) -> None:
    path = corpus / "watches" / name
    problems = validate_file(path)
    assert all(p.file == str(path) for p in problems)
    got = [(p.pointer, p.message) for p in problems]
    if name in CONSOLE_SYNTAX:
        # The decoder's message may grow; the position and the cause must be there.
        assert len(got) == 1 and got[0][0] == "", got
        assert got[0][1].startswith(WATCHES[name][0][1]), got
    else:
        assert got == WATCHES[name]


@pytest.mark.parametrize("name", sorted(CONSOLE_SYNTAX))
def test_console_original_has_a_valid_strict_twin(corpus: Path, name: str) -> None:
    twin = name.removesuffix(".json") + ".strict.json"
    problems = [(p.pointer, p.message) for p in validate_file(corpus / "watches" / twin)]
    # Valid JSON, with nothing left but what edgewatch refuses in any form.
    assert problems == WATCHES[twin]
    assert set(problems) <= {HTTP_PASSWORD}


def test_validate_paths_walks_the_corpus(corpus: Path) -> None:
    checked, problems = validate_paths([corpus / "watches" / "ml_examples"])
    assert checked == 10
    assert {Path(p.file).name for p in problems} == {
        "chained_watch.json",
        "default_ml_watch.json",
        "default_ml_watch_email.json",
        "multiple_jobs_watch.json",
    }


# --------------------------------------------------------------------------- the schema itself


def test_schema_is_valid_draft_2020_12() -> None:
    schema = watch_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://edgewatch.dev/schemas/watch.schema.json"


def _walk(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        out.append((path, node))
        for key, value in node.items():
            out.extend(_walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_walk(value, f"{path}/{index}"))
    return out


def test_every_property_is_described() -> None:
    undocumented = [
        f"{path}/properties/{name}"
        for path, node in _walk(watch_schema())
        if isinstance(node.get("properties"), dict) and not path.endswith("/properties")
        for name, sub in node["properties"].items()
        if not (isinstance(sub, dict) and ("description" in sub or set(sub) == {"$ref"}))
    ]
    assert undocumented == []


# --------------------------------------------------------------------------- typical mistakes

WATCH: dict[str, Any] = {
    "trigger": {"schedule": {"interval": "5m"}},
    "input": {"search": {"request": {"indices": ["logs-*"], "body": {"size": 0}}}},
    "condition": {"compare": {"ctx.payload.hits.total": {"gt": 0}}},
    "throttle_period": "15m",
    "actions": {
        "notify": {
            "throttle_period": "1h",
            "email": {"to": ["ops@example.com"], "subject": "errors", "body": "{{ctx.id}}"},
        },
        "log": {"logging": {"text": "{{ctx.payload.hits.total}} errors", "level": "warn"}},
    },
}


def problems_of(change: Any) -> list[tuple[str, str]]:
    watch = copy.deepcopy(WATCH)
    change(watch)
    return [(p.pointer, p.message) for p in validate_rule(watch, "rule.json")]


def test_the_base_watch_is_valid() -> None:
    assert validate_rule(WATCH, "rule.json") == []


def test_typo_in_a_top_level_key() -> None:
    assert problems_of(lambda w: w.update(trigerr=w.pop("trigger"))) == [
        ("", "missing required key 'trigger'"),
        (
            "/trigerr",
            "unknown key 'trigerr' (expected one of: trigger, input, condition, transform, "
            "actions, throttle_period, throttle_period_in_millis, metadata, status, active)",
        ),
    ]


def test_missing_trigger() -> None:
    assert problems_of(lambda w: w.pop("trigger")) == [("", "missing required key 'trigger'")]


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("throttle_period", "5 minutes", "'5 minutes' is not a duration like 5m, 30s, 1h"),
        ("throttle_period", "10", "'10' is not a duration like 5m, 30s, 1h"),
        ("throttle_period", 300, "expected a duration like 5m, 30s, 1h, got an integer"),
        ("throttle_period_in_millis", "5m", "expected an integer, got a string"),
        ("throttle_period_in_millis", -1, "-1 is less than the minimum, 0"),
    ],
)
def test_bad_watch_duration(where: str, value: object, message: str) -> None:
    assert problems_of(lambda w: w.update({where: value})) == [(f"/{where}", message)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5 minutes", "'5 minutes' is not an interval like 30s, 5m, 1h, 1d, 2w"),
        ("500ms", "'500ms' is not an interval like 30s, 5m, 1h, 1d, 2w"),
        ("0s", "'0s' is not an interval like 30s, 5m, 1h, 1d, 2w"),
        (0, "0 is less than the minimum, 1"),
        (
            True,
            "expected an interval like 30s, 5m, 1h, 1d, 2w (or a number of seconds), got a boolean",
        ),
    ],
)
def test_bad_interval(value: object, message: str) -> None:
    change = lambda w: w["trigger"]["schedule"].update(interval=value)  # noqa: E731
    assert problems_of(change) == [("/trigger/schedule/interval", message)]


@pytest.mark.parametrize("value", ["10s", "5m", "1h", "1d", "2w", 90])
def test_good_intervals(value: object) -> None:
    assert problems_of(lambda w: w["trigger"]["schedule"].update(interval=value)) == []


@pytest.mark.parametrize("value", ["500ms", "10s", "5m", "1.5h", "1d", "2w", "30S", "0"])
def test_good_throttle_periods(value: str) -> None:
    assert problems_of(lambda w: w.update(throttle_period=value)) == []


def test_compare_operator_typo() -> None:
    def change(w: dict[str, Any]) -> None:
        w["condition"]["compare"]["ctx.payload.hits.total"] = {"gtt": 0}

    assert problems_of(change) == [
        (
            "/condition/compare/ctx.payload.hits.total/gtt",
            "unknown comparison operator 'gtt' (expected one of: eq, not_eq, gt, gte, lt, lte)",
        )
    ]


def test_condition_type_typo_is_reported_once() -> None:
    assert problems_of(lambda w: w.update(condition={"compar": {}})) == [
        (
            "/condition/compar",
            "unknown condition type 'compar' "
            "(expected one of: always, never, compare, array_compare, script)",
        )
    ]


@pytest.mark.parametrize(
    ("change", "pointer", "message"),
    [
        (
            lambda w: w["actions"]["notify"]["email"].update(to=5),
            "/actions/notify/email/to",
            "expected an address or a list of addresses, got an integer",
        ),
        (
            lambda w: w.update(metadata=["a"]),
            "/metadata",
            "expected an object, got an array",
        ),
        (
            lambda w: w["actions"]["log"]["logging"].update(level="warning"),
            "/actions/log/logging/level",
            "'warning' is not one of: 'error', 'warn', 'info', 'debug', 'trace'",
        ),
        (
            lambda w: w.update(condition={"script": 42}),
            "/condition/script",
            "expected a script (a string, or an object with source or id), got an integer",
        ),
        (
            lambda w: w["input"]["search"]["request"].update(indices=7),
            "/input/search/request/indices",
            "expected an index name or a list of index names, got an integer",
        ),
        (
            lambda w: w.update(active="no"),
            "/active",
            "expected a boolean, got a string",
        ),
    ],
)
def test_wrong_type(change: Any, pointer: str, message: str) -> None:
    assert problems_of(change) == [(pointer, message)]


def test_slack_action_is_unsupported_not_unknown() -> None:
    def change(w: dict[str, Any]) -> None:
        w["actions"]["notify"] = {"slack": {"message": {"to": ["#ops"], "text": "hi"}}}

    assert problems_of(change) == [
        (
            "/actions/notify/slack",
            "action type 'slack' is not supported by edgewatch "
            "(supported: logging, index, email, webhook)",
        )
    ]


@pytest.mark.parametrize("kind", ["pagerduty", "jira", "hipchat"])
def test_other_unsupported_actions(kind: str) -> None:
    assert problems_of(lambda w: w["actions"].update(x={kind: {}})) == [
        (
            f"/actions/x/{kind}",
            f"action type '{kind}' is not supported by edgewatch "
            "(supported: logging, index, email, webhook)",
        )
    ]


def test_action_type_typo() -> None:
    def change(w: dict[str, Any]) -> None:
        w["actions"]["log"] = {"loging": {"text": "x"}}

    assert problems_of(change) == [
        (
            "/actions/log/loging",
            "unknown key 'loging' (expected one of: condition, transform, throttle_period, "
            "throttle_period_in_millis, foreach, max_iterations, alert_key, notify_resolved, "
            "resolve_with, logging, index, email, webhook)",
        )
    ]


def test_action_needs_exactly_one_type() -> None:
    assert problems_of(lambda w: w["actions"].update(x={"throttle_period": "1m"})) == [
        ("/actions/x", "missing the action type: expected one of: logging, index, email, webhook")
    ]
    assert problems_of(lambda w: w["actions"]["log"].update(index={"index": "a"})) == [
        ("/actions/log", "more than one action type: logging, index (expected exactly one)")
    ]


def test_webhook_needs_a_target() -> None:
    assert problems_of(lambda w: w["actions"].update(h={"webhook": {"method": "post"}})) == [
        ("/actions/h/webhook", "missing required keys: give url, or host and port")
    ]
    assert problems_of(lambda w: w["actions"].update(h={"webhook": {"host": "x"}})) == [
        ("/actions/h/webhook", "missing required key 'port'")
    ]


@pytest.mark.parametrize(
    ("schedule", "pointer", "message"),
    [
        (
            {"daily": {"at": "25:00"}},
            "/daily/at",
            "'25:00' is not a time of day like 02:30, noon or midnight",
        ),
        (
            {"weekly": {"on": "funday"}},
            "/weekly/on",
            "'funday' is not a day of the week like monday, mon or 2",
        ),
        ({"hourly": {"minute": 60}}, "/hourly/minute", "60 is more than the maximum, 59"),
        ({"monthly": {"on": 32}}, "/monthly/on", "32 is more than the maximum, 31"),
        ({"cron": ""}, "/cron", "must not be empty"),
        (
            {"interval": "5m", "cron": "0 * * * * ?"},
            "",
            "more than one schedule type: interval, cron (expected exactly one)",
        ),
    ],
)
def test_bad_schedules(schedule: dict[str, Any], pointer: str, message: str) -> None:
    assert problems_of(lambda w: w["trigger"].update(schedule=schedule)) == [
        ("/trigger/schedule" + pointer, message)
    ]


@pytest.mark.parametrize(
    "schedule",
    [
        {"hourly": {"minute": [0, 15, 30, 45]}},
        {"daily": {"at": ["midnight", "noon", "17:30", {"hour": [1, 2], "minute": 5}]}},
        {"weekly": [{"on": "tuesday", "at": "noon"}, {"on": ["fri", 7], "at": "17:00"}]},
        {"monthly": [{"on": "last_day", "at": "09:00"}, {"on": 15, "at": "09:00"}]},
        {"yearly": {"in": ["jan", "july"], "on": 1, "at": "noon"}, "timezone": "Europe/Berlin"},
        {"cron": ["0 0/5 * * * ?", "0 0 12 ? * MON-FRI"]},
        {"interval": 30},
    ],
)
def test_good_schedules(schedule: dict[str, Any]) -> None:
    assert problems_of(lambda w: w["trigger"].update(schedule=schedule)) == []


def test_scripts_in_all_their_forms() -> None:
    forms: list[object] = [
        "return true",
        {"source": "return true", "lang": "painless", "params": {"x": 1}},
        {"inline": "return true"},
        {"id": "my_stored_script"},
    ]
    for form in forms:
        assert problems_of(lambda w, f=form: w.update(condition={"script": f})) == [], form
        assert problems_of(lambda w, f=form: w.update(transform={"script": f})) == [], form
    assert problems_of(lambda w: w.update(condition={"script": {"lang": "painless"}})) == [
        ("/condition/script", "missing the source or id: expected one of: source, id")
    ]


def test_array_compare_and_chains() -> None:
    def change(w: dict[str, Any]) -> None:
        w["condition"] = {
            "array_compare": {
                "ctx.payload.aggregations.top.buckets": {
                    "path": "doc_count",
                    "gte": {"value": 25, "quantifier": "some"},
                }
            }
        }
        w["input"] = {
            "chain": {
                "inputs": [
                    {"first": {"simple": {"threshold": 3}}},
                    {
                        "second": {
                            "http": {"request": {"url": "http://x/_cat", "read_timeout": "5s"}}
                        }
                    },
                ]
            }
        }
        w["transform"] = {"chain": [{"search": {"request": {"body": {}}}}, {"script": "ctx"}]}

    assert problems_of(change) == []


def test_execute_body_reports_pointers_relative_to_the_file() -> None:
    body: dict[str, Any] = {"watch": copy.deepcopy(WATCH), "record_execution": True}
    assert validate_rule(body, "run.json") == []
    body["watch"]["trigger"]["schedule"] = {"interval": "often"}
    assert [(p.pointer, p.message) for p in validate_rule(body, "run.json")] == [
        ("/watch/trigger/schedule/interval", "'often' is not an interval like 30s, 5m, 1h, 1d, 2w")
    ]


def test_active_may_be_top_level_or_in_status() -> None:
    assert problems_of(lambda w: w.update(active=False)) == []
    assert problems_of(lambda w: w.update(status={"state": {"active": False}, "version": 3})) == []
    assert problems_of(lambda w: w.update(status={"state": {"active": "no"}})) == [
        ("/status/state/active", "expected a boolean, got a string")
    ]


def test_problem_reads_as_file_pointer_message() -> None:
    assert str(Problem("a.json", "/actions/x", "bad")) == "a.json: /actions/x: bad"
    assert str(Problem("a.json", "", "bad")) == "a.json: /: bad"


def test_pointer_escapes_slash_and_tilde() -> None:
    def change(w: dict[str, Any]) -> None:
        w["actions"]["a/b~c"] = {"logging": {}}

    assert problems_of(change) == [("/actions/a~1b~0c/logging", "missing required key 'text'")]


# --------------------------------------------------------------------------- files


def test_json_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "rule.json"
    path.write_text('{\n  "trigger": {"schedule": {"interval": "5m"}},\n  // a comment\n}\n')
    assert [str(p) for p in validate_file(path)] == [
        f"{path}: /: not valid JSON at line 3, column 3: Expecting property name enclosed in "
        "double quotes"
    ]


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "rule.json"
    path.write_text(
        '{"trigger": {"schedule": {"interval": "5m"}},'
        ' "actions": {"a": {"logging": {"text": "x", "text": "y"}}}}'
    )
    assert [(p.pointer, p.message) for p in validate_file(path)] == [
        ("/actions/a/logging/text", "duplicate key 'text'")
    ]


def test_unreadable_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{}")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "ok.json").write_text(json.dumps(WATCH))
    (tmp_path / "notes.txt").write_text("not a rule")
    checked, problems = validate_paths([tmp_path, tmp_path / "gone.json"])
    assert checked == 2
    assert [(Path(p.file).name, p.message) for p in problems] == [
        ("bad.json", "not UTF-8 text (byte offset 0)"),
        ("gone.json", "no such file or directory"),
    ]


# --------------------------------------------------------------------------- robustness

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["5m", "0", "gt", "logging", "slack", "watch", "trigger", "{{ctx}}"])
)
KEYS = st.text(max_size=8) | st.sampled_from(
    [
        "trigger",
        "schedule",
        "interval",
        "input",
        "search",
        "condition",
        "compare",
        "actions",
        "script",
        "source",
        "id",
        "email",
        "webhook",
        "slack",
        "watch",
        "host",
        "url",
        "gt",
        "on",
    ]
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_never_raises_on_arbitrary_json(data: object) -> None:
    problems = validate_rule(data, "x.json")
    assert all(isinstance(p, Problem) and p.message for p in problems)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*path, index)))
    return out


WATCH_PATHS = _paths(WATCH)[1:]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(WATCH_PATHS), JSON_VALUES)
def test_never_raises_on_a_damaged_watch(path: tuple[Any, ...], value: object) -> None:
    watch = copy.deepcopy(WATCH)
    node: Any = watch
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    problems = validate_rule(watch, "x.json")
    assert all(p.pointer.startswith("/") or p.pointer == "" for p in problems)
