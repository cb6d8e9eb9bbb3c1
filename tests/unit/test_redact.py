"""pipeline/redact.py: URLs, text and records without secrets; sealing; the log filter."""

from __future__ import annotations

import copy
import logging

import pytest

from pipeline import redact
from pipeline.alerting.delivery.seal import Sealer, SealError
from pipeline.config import ConfigError, load_config
from pipeline.redact import REDACTED, redact_record, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://es.example:9200", "https://es.example:9200"),
        ("https://u:p@es.example:9200/x", "https://es.example:9200/x"),
        ("http://token@[::1]:80/", "http://[::1]:80/"),
        ("https://h/x?token=abc&team=ops", f"https://h/x?token={REDACTED}&team=ops"),
        (
            "https://h/?Access-Token=a&API_KEY=b&sig=c",
            f"https://h/?Access-Token={REDACTED}&API_KEY={REDACTED}&sig={REDACTED}",
        ),
        ("https://h/?x_webhook_secret=a&page=2", f"https://h/?x_webhook_secret={REDACTED}&page=2"),
        ("https://h/#access_token=a", f"https://h/#access_token={REDACTED}"),
        ("http://u:p@[::1/?token=a", f"http://[::1/?token={REDACTED}"),  # not parseable
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_finds_urls_and_credential_schemes() -> None:
    text = "POST https://u:pw@h/x?key=k failed; sent Authorization: Bearer abcdefghijkl"
    assert redact_text(text) == (
        f"POST https://h/x?key={REDACTED} failed; sent Authorization: Bearer {REDACTED}"
    )
    assert redact_text("nothing here") == "nothing here"


def test_redact_record_copies_and_never_changes_the_rule() -> None:
    watch_input = {
        "http": {
            "request": {
                "url": "https://h/?token=t",
                "auth": {"basic": {"username": "u", "password": "p"}},
                "headers": {"Proxy-Authorization": "Basic x", "Accept": "json"},
            }
        }
    }
    before = copy.deepcopy(watch_input)
    shown = redact_record({"input": watch_input, "messages": ["GET https://h/?token=t: 500"]})
    assert watch_input == before  # the rule keeps its real password for the next run
    request = shown["input"]["http"]["request"]
    assert request["auth"]["basic"] == {"username": "u", "password": REDACTED}
    assert request["headers"] == {"Proxy-Authorization": REDACTED, "Accept": "json"}
    assert request["url"] == f"https://h/?token={REDACTED}"
    assert shown["messages"] == [f"GET https://h/?token={REDACTED}: 500"]


def test_sealed_webhook_content_opens_only_with_its_key() -> None:
    content = {
        "url": "https://h/hook?token=t&team=ops",
        "headers": {"Authorization": "Bearer b", "X-Team": "ops"},
        "body": "{}",
    }
    sealer = Sealer("passphrase")
    stored = sealer.seal(content)
    assert "token=t" not in str(stored) and "Bearer b" not in str(stored)
    assert stored["headers"] == {"Authorization": REDACTED, "X-Team": "ops"}
    assert Sealer("passphrase").open(stored) == content  # another process, the same key
    with pytest.raises(SealError, match=r"alert\.outbox_key"):
        Sealer("another").open(stored)
    plain = {"url": "https://h/hook", "headers": {}, "body": ""}
    assert sealer.seal(plain) == plain and Sealer().open(plain) == plain


def test_secret_filter_masks_config_secrets(caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(environ={"EDGEWATCH_SMTP_PASSWORD": "hunter22"})
    assert "hunter22" in redact.secret_values(config)
    log_filter = redact.SecretFilter(redact.secret_values(config))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "pw %s at %s", None, None)
    record.args = ("hunter22", "https://u:hunter22@h/")
    assert log_filter.filter(record)
    assert record.getMessage() == "pw ******** at https://h/"


@pytest.mark.parametrize("allow", ["script", "iframe", "_everything", "img:remote", "a b"])
def test_html_allow_refuses_dangerous_or_unknown_entries(allow: str) -> None:
    with pytest.raises(ConfigError, match="EDGEWATCH_SMTP_HTML_ALLOW"):
        load_config(environ={"EDGEWATCH_SMTP_HTML_ALLOW": f"_formatting,{allow}"})


def test_html_allow_accepts_groups_and_plain_elements() -> None:
    config = load_config(environ={"EDGEWATCH_SMTP_HTML_ALLOW": "_formatting,img,abbr"})
    assert config.smtp.html_allow == ("_formatting", "img", "abbr")
    assert config.smtp.security == "opportunistic" and config.smtp.html_sanitise


def test_log_arguments_cannot_forge_log_lines() -> None:
    """A rule id from a file name, or log text, with CR/LF in it stays on its own line."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(redact.SecretFilter())
    log = logging.getLogger("edgewatch.test.oneline")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("rule %s failed", "spike\nERROR edgewatch: admin logged in\r\x1b[2J")
        log.warning("%(rule)s again", {"rule": "a\nb"})
    finally:
        log.removeHandler(handler)
    assert records == [
        "rule spike\\nERROR edgewatch: admin logged in\\r\\x1b[2J failed",
        "a\\nb again",
    ]
