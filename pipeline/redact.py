"""Keep secrets out of everything edgewatch stores, logs or shows. Pure, except `install`.

Three tools, used wherever text or records leave the process (the outbox seals what it must
keep: pipeline/alerting/delivery/seal.py):

- `redact_url` / `redact_text`: a URL without its userinfo (`user:pass@`) and with the values of
  token-like query parameters masked, for logs, error reasons, `config show` and `/readyz`;
- `redact_record`: a watch record (history, `rules run`) with Watcher's `::es_redacted::` in
  place of passwords and `Authorization` headers, and every URL in it redacted;
- `SecretFilter` / `install`: a logging filter that masks the configuration's secret values
  and redacts URLs in every log record, tracebacks included.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

# What Watcher writes in place of a secret it will not show.
REDACTED = "::es_redacted::"
MASK = "********"

# Query parameters whose values are credentials (compared lower-case, `-` read as `_`).
_TOKEN_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "auth_token",
        "api_key",
        "apikey",
        "key",
        "sig",
        "signature",
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "code",
        "session",
        "sessionid",
    }
)
# Parameter names that end like these are credentials too (x_api_key, webhook_secret...).
_TOKEN_SUFFIXES = ("token", "secret", "password", "api_key", "apikey", "signature")
# Header (and record) keys whose values are credentials, compared lower-case.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
# Record keys whose values are passwords wherever they appear (Watcher: auth.basic.password).
_SECRET_KEYS = frozenset({"password", "passwd"})

# A URL in prose ends before trailing punctuation ("failed at http://h/x: timeout").
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>`]*[^\s'\"<>`.,;:!?)\]}]")
_CREDENTIAL_IN_TEXT = re.compile(r"\b(Bearer|Basic|ApiKey|Token)\s+[A-Za-z0-9._~+/=\-]{8,}")


def _secret_param(name: str) -> bool:
    key = urllib.parse.unquote_plus(name).strip().lower().replace("-", "_")
    return key in _TOKEN_PARAMS or key.endswith(_TOKEN_SUFFIXES)


def _redact_pairs(query: str) -> str:
    if "=" not in query:
        return query
    parts = []
    for pair in query.split("&"):
        name, sep, _value = pair.partition("=")
        parts.append(f"{name}={REDACTED}" if sep and _secret_param(name) else pair)
    return "&".join(parts)


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters as a map (a Watcher http request's `params`), the values of those named
    like secrets (`token`, `api_key`, `sig`, ...) replaced: the same names `redact_url` hides."""
    return {
        name: REDACTED if value is not None and _secret_param(str(name)) else value
        for name, value in params.items()
    }


def redact_url(url: str) -> str:
    """`url` without userinfo and with token-like query (and fragment) values masked."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        # Not a URL urllib understands (a broken IPv6 literal, a bad port): cut by pattern.
        without_user = re.sub(r"(://)[^/@\s]*@", r"\1", url)
        return re.sub(r"([?&#][^=&#\s]+=)[^&#\s]*", _mask_match, without_user)
    netloc = parts.netloc
    if "@" in netloc and host is not None:
        shown = f"[{host}]" if ":" in host else host
        netloc = shown + (f":{port}" if port is not None else "")
    return urllib.parse.urlunsplit(
        (
            parts.scheme,
            netloc,
            parts.path,
            _redact_pairs(parts.query),
            _redact_pairs(parts.fragment),
        )
    )


def _mask_match(match: re.Match[str]) -> str:
    prefix = match.group(1)
    return f"{prefix}{REDACTED}" if _secret_param(prefix[1:-1]) else match.group(0)


def redact_text(text: str) -> str:
    """Free text (an error reason, a log line) with every URL in it redacted and credential
    schemes (`Bearer <token>`, `Basic <base64>`) masked."""
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    if " " in text:
        text = _CREDENTIAL_IN_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return text


def redact_record(value: Any) -> Any:
    """A copy of a watch record (or any JSON-like data) with passwords and credential headers
    replaced by `::es_redacted::` and every string's URLs redacted. Never changes `value`:
    the record shares objects with the rule, which must keep its real password."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).lower()
            if item is not None and (name in _SECRET_KEYS or name in SECRET_HEADERS):
                out[key] = REDACTED
            else:
                out[key] = redact_record(item)
        return out
    if isinstance(value, list | tuple):
        return [redact_record(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


# --------------------------------------------------------------------------- logging


# C0 control characters and DEL, except tab, written as escapes.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F] if c != 0x09} | {
    0x0A: "\\n",
    0x0D: "\\r",
}


def _one_line(value: Any) -> Any:
    """A string argument of a log call with its control characters escaped; others as they are."""
    return value.translate(_CONTROLS) if isinstance(value, str) else value


class SecretFilter(logging.Filter):
    """Masks known secret values and redacts URLs in each record it sees, message and
    traceback alike. Attached to handlers, so it sees the records of every logger."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """`text` with every known secret masked and its URLs redacted."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return redact_text(text)

    def filter(self, record: logging.LogRecord) -> bool:
        # Values logged as arguments come from outside (rule ids from file names, log text,
        # server answers): a CR or LF in one must not start a forged log line.
        if isinstance(record.args, tuple):
            record.args = tuple(_one_line(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _one_line(v) for k, v in record.args.items()}
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the formatter to report
            return True
        record.msg = self.mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
            # The formatter would print the traceback again from exc_info, unmasked.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def secret_values(config: Any) -> list[str]:
    """Every value of a setting declared secret (`_setting(..., secret=True)`) in a config."""
    found: list[str] = []
    if not is_dataclass(config):
        return found
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            found += secret_values(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                found += secret_values(item)
        elif f.metadata.get("secret") and isinstance(value, str):
            found.append(value)
    return found


def install(config: Any, logger: logging.Logger | None = None) -> SecretFilter:
    """Attach one `SecretFilter` for `config`'s secrets to every handler of `logger` (the
    root logger by default), replacing one installed before."""
    target = logger or logging.getLogger()
    log_filter = SecretFilter(secret_values(config))
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(log_filter)
    return log_filter
