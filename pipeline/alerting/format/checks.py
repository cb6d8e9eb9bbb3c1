"""What Watcher refuses when a watch is put that a JSON Schema cannot say. Pure.

Watcher parses and builds the whole watch at PUT time, so a watch with an unknown time zone or
a broken cron expression never runs (`put_watch/11_timezoned_schedules.yml`,
`.../trigger/schedule/CronSchedule.java`). The schema checks shapes; these checks need the
schedule engine itself, and run only on a rule the schema found no problem with, so they may
trust its shape. Each problem points at the exact value (`/trigger/schedule/cron/1`).

One refusal is edgewatch's own: credentials in an http input. Watcher stores them (and hides
them as `::es_redacted::`), but edgewatch's rules are files kept in git, so a password or a
literal `Authorization` (or cookie, API key) value there is refused, as email and webhook
passwords already are (the schema refuses `auth.basic.password`); the http input sends
`http.input_password` instead (watch_http.http_input).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from pipeline.alerting.engine.java.durations import DurationError, parse_interval
from pipeline.alerting.engine.mustache.syntax import (
    Block,
    Join,
    Section,
    TemplateError,
    ToJson,
    Url,
    Var,
    parse,
)
from pipeline.alerting.engine.schedules.calendar import as_list, calendar_crons
from pipeline.alerting.engine.schedules.cron import CronExpression, ScheduleError
from pipeline.alerting.engine.schedules.schedule import parse_zone
from pipeline.alerting.format.files import Problem, pointer_token
from pipeline.redact import SECRET_HEADERS

__all__ = ["CREDENTIAL_ADVICE", "check_rule", "inputs"]

CREDENTIAL_ADVICE = (
    "credentials do not belong in a rule file (rules are kept in git): give"
    " auth.basic.username alone, and edgewatch sends http.input_password"
    " (EDGEWATCH_HTTP_INPUT_PASSWORD) to the hosts of http.input_credential_hosts"
)
# Around a template, what is not a secret: an auth scheme first ("Bearer "), cookie names.
_SCHEME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_COOKIE_NAME = re.compile(r"[^=\s;]+=;?|;")


def check_rule(data: Any, source: str) -> list[Problem]:
    """Problems of a schema-valid rule (a watch or an `_execute` body) beyond its schema."""
    if not isinstance(data, Mapping):
        return []
    base = "/watch" if isinstance(data.get("watch"), Mapping) else ""
    watch = data["watch"] if base else data
    found: list[tuple[str, str]] = []
    trigger = watch.get("trigger")
    if isinstance(trigger, Mapping) and isinstance(trigger.get("schedule"), Mapping):
        found.extend(_schedule(trigger["schedule"], "/trigger/schedule"))
    found.extend(_credentials(watch.get("input"), "/input"))
    return [Problem(source, base + pointer, message) for pointer, message in found]


# --------------------------------------------------------------------------- schedules


def _schedule(schedule: Mapping[str, Any], at: str) -> Iterator[tuple[str, str]]:
    if "timezone" in schedule:
        try:
            parse_zone(schedule["timezone"])
        except ScheduleError as err:
            yield f"{at}/timezone", str(err)
    for kind, spec in schedule.items():
        if kind == "timezone":
            continue
        if kind == "interval":
            try:
                parse_interval(spec)
            except DurationError as err:
                yield f"{at}/interval", str(err)
        elif kind == "cron":
            many = isinstance(spec, list)
            for index, text in enumerate(as_list(spec)):
                try:
                    CronExpression.parse(str(text))
                except ScheduleError as err:
                    yield (f"{at}/cron/{index}" if many else f"{at}/cron"), str(err)
        else:
            try:
                for text in calendar_crons(kind, spec):
                    CronExpression.parse(text)
            except ScheduleError as err:
                yield f"{at}/{kind}", str(err)


# --------------------------------------------------------------------------- credentials


def inputs(node: Any, at: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(pointer, input) for an input and, through chains, every input inside it."""
    if not isinstance(node, Mapping):
        return
    yield at, node
    chain = node.get("chain")
    members = chain.get("inputs") if isinstance(chain, Mapping) else None
    for index, entry in enumerate(members if isinstance(members, list) else []):
        for name, inner in entry.items() if isinstance(entry, Mapping) else []:
            yield from inputs(inner, f"{at}/chain/inputs/{index}/{pointer_token(name)}")


def _http_requests(node: Any, at: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every http input's request, with its pointer, also inside chain inputs."""
    for where, one in inputs(node, at):
        http = one.get("http")
        if isinstance(http, Mapping) and isinstance(http.get("request"), Mapping):
            yield f"{where}/http/request", http["request"]


def _credentials(node: Any, at: str) -> Iterator[tuple[str, str]]:
    for where, request in _http_requests(node, at):
        headers = request.get("headers")
        if isinstance(headers, Mapping):
            for name, value in headers.items():
                if str(name).lower() in SECRET_HEADERS and _literal_secret(value):
                    yield (
                        f"{where}/headers/{pointer_token(name)}",
                        f"the {name} header holds a literal secret; {CREDENTIAL_ADVICE}",
                    )
        url = request.get("url")
        if isinstance(url, str) and _has_password(url):
            yield f"{where}/url", f"the URL holds a password; {CREDENTIAL_ADVICE}"


def _literal_secret(value: Any) -> bool:
    """Whether a header value carries a secret written in the rule.

    `Bearer {{ctx.payload.login.token}}` or `session={{ctx.payload.login.cookie}}` take their
    secret from the execution (an earlier chain input); `Basic dXNlcjpwdw==`, or a template
    that reads `ctx.metadata` (which is written in the rule too), do not. The headers checked
    are those the watch record redacts (redact.SECRET_HEADERS).
    """
    if not isinstance(value, str | Mapping):
        return False
    text = value.get("source", "") if isinstance(value, Mapping) else value
    try:
        nodes = parse(str(text))
    except TemplateError:
        return bool(str(text).strip())
    literal: list[str] = []
    names: list[str] = []
    _collect(nodes, literal, names)
    if any(name == "ctx.metadata" or name.startswith("ctx.metadata.") for name in names):
        return True
    words = "".join(literal).split()
    if not names:
        return bool(words)
    return not all(
        (index == 0 and _SCHEME_WORD.fullmatch(word)) or _COOKIE_NAME.fullmatch(word)
        for index, word in enumerate(words)
    )


def _collect(nodes: tuple[Any, ...], literal: list[str], names: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            literal.append(node)
        elif isinstance(node, Section):
            names.append(node.name)
            _collect(node.body, literal, names)
        elif isinstance(node, Block | Url):
            _collect(node.body, literal, names)
        elif isinstance(node, Var | ToJson | Join):
            names.append(node.name)


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False
