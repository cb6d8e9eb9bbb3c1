"""Secrets never reach the execution history, the outbox, log lines or error reasons, while
the requests that need them still carry them. And credentials never go out in clear text.

A rule whose http input carries a password, an Authorization header and an api_key in its
URL, and whose webhooks carry ?token= in theirs (one reachable, one not), runs through
`edgewatch rules run --record` against the real local Elasticsearch and a real HTTP server.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from pipeline.cli import main
from pipeline.clients import elasticsearch as es_client
from pipeline.config import Config, ConfigError, ElasticsearchConfig, describe
from tests.fixtures.http_receiver import HttpReceiver

pytestmark = pytest.mark.integration

# Every secret of the rule and the config carries this marker, so one search finds a leak.
MARK = "SECRET"
PROXY_BASIC = "cHJveHk6czNjcjN0"  # base64 of proxy:s3cr3t, which has no marker


def _rule(receiver: HttpReceiver) -> dict[str, object]:
    return {
        "trigger": {"schedule": {"interval": "1m"}},
        "input": {
            "http": {
                "request": {
                    "url": f"{receiver.url}/status?api_key=key-{MARK}&region=eu",
                    # The password comes from the config: rules refuse credentials
                    # (format/checks.py), so it can only leak from edgewatch itself.
                    "auth": {"basic": {"username": "ops"}},
                    "headers": {"X-Team": "ops"},
                }
            }
        },
        "condition": {"always": {}},
        "actions": {
            "hook": {
                "webhook": {
                    "method": "post",
                    "url": f"{receiver.url}/hook?token=tok-{MARK}&team=ops",
                    "headers": {"Proxy-Authorization": f"Basic {PROXY_BASIC}"},
                    "body": "status {{ctx.payload._status_code}}",
                }
            },
            "down": {
                "webhook": {
                    "method": "post",
                    # Nothing listens on port 9: the failure reason quotes this URL.
                    "url": f"http://user:pw-{MARK}@127.0.0.1:9/down?sig=sig-{MARK}",
                    "body": "x",
                }
            },
            "note": {"logging": {"text": "checked, answered {{ctx.payload._status_code}}"}},
        },
    }


def _env(cfg: Config) -> dict[str, str]:
    return {
        "EDGEWATCH_ALERT_STATE_INDEX": cfg.alert.state_index,
        "EDGEWATCH_ALERT_HISTORY_PREFIX": cfg.alert.history_prefix,
        "EDGEWATCH_ALERT_OUTBOX_INDEX": cfg.alert.outbox_index,
        "EDGEWATCH_HTTP_ALLOWED_HOSTS": "127.0.0.1",
        "EDGEWATCH_WEBHOOK_HMAC_SECRET": f"hmac-{MARK}",
        "EDGEWATCH_LOG_LEVEL": "debug",
        "EDGEWATCH_HTTP_INPUT_PASSWORD": f"pass-{MARK}",
        "EDGEWATCH_HTTP_INPUT_CREDENTIAL_HOSTS": "127.0.0.1",
    }


def _stored(es: Elasticsearch, index: str) -> str:
    es.indices.refresh(index=index, allow_no_indices=True)
    found = es.search(index=index, size=100, allow_no_indices=True)
    assert found["hits"]["hits"], f"nothing stored in {index}"
    return json.dumps(found["hits"]["hits"])


def test_no_password_or_token_in_history_outbox_or_logs(
    alert_config: Config,
    es: Elasticsearch,
    http_receiver: HttpReceiver,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rule = tmp_path / "leaky.json"
    rule.write_text(json.dumps(_rule(http_receiver)))
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(
        main,
        ["rules", "run", str(rule), "--record", "--wait", "3"],
        env=_env(alert_config),
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output

    # What needed the secrets got them: the input, and the webhook after the outbox.
    requests = http_receiver.wait_for(2)
    status = next(r for r in requests if r.path == "/status")
    assert status.query["api_key"] == [f"key-{MARK}"]
    login = base64.b64encode(f"ops:pass-{MARK}".encode()).decode()
    assert status.headers["authorization"] == f"Basic {login}"
    hook = next(r for r in requests if r.path == "/hook")
    assert hook.query["token"] == [f"tok-{MARK}"]
    assert hook.headers["proxy-authorization"] == f"Basic {PROXY_BASIC}"
    assert hook.body == b"status 200"

    record = json.loads(result.output)
    history = _stored(es, f"{alert_config.alert.history_prefix}-*")
    outbox = _stored(es, alert_config.alert.outbox_index)
    for shown in (result.output, history, outbox, caplog.text):
        assert MARK not in shown
        assert PROXY_BASIC not in shown
    # Redacted as Watcher does, the rest of each record intact.
    request = record["input"]["http"]["request"]
    assert request["auth"]["basic"] == {"username": "ops"}
    assert request["headers"] == {"X-Team": "ops"}
    assert request["url"].endswith("/status?api_key=::es_redacted::&region=eu")
    assert '"X-Team": "ops"' in history and "team=ops" in history and "region=eu" in history
    # The unreachable webhook failed with a reason that names its host, not its secrets.
    assert "127.0.0.1:9/down?sig=::es_redacted::" in outbox
    assert "down?sig=::es_redacted::" in caplog.text
    # The log line of the logging action and the courier's lines are there, just masked.
    assert "checked, answered 200" in caplog.text
    assert "/hook?token=::es_redacted::&team=ops" in caplog.text


def test_log_filter_masks_config_secrets_in_messages_and_tracebacks(
    alert_config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    from pipeline import redact

    cfg = replace(
        alert_config,
        smtp=replace(alert_config.smtp, password=f"smtp-{MARK}"),
        es=replace(alert_config.es, api_key=f"api-{MARK}"),
    )
    caplog.set_level(logging.INFO)
    redact.install(cfg)
    log = logging.getLogger("edgewatch.test")
    log.info("connecting with %s to %s", f"api-{MARK}", f"https://u:p-{MARK}@es.example:9200/")
    try:
        raise RuntimeError(f"login refused for password smtp-{MARK}")
    except RuntimeError:
        log.exception("sending failed")
    assert MARK not in caplog.text
    assert "connecting with ******** to https://es.example:9200/" in caplog.text
    assert "login refused for password ********" in caplog.text  # the traceback, masked
    assert "sending failed" in caplog.text


def test_config_show_and_readyz_urls_have_no_userinfo_or_tokens(alert_config: Config) -> None:
    cfg = replace(
        alert_config,
        es=replace(alert_config.es, url=f"https://edgewatch:pw-{MARK}@es.example:9200"),
        alert=replace(
            alert_config.alert,
            painless_url=f"https://es.example:9200/?api_key=k-{MARK}",
            kibana_url=f"https://kibana.example/?auth_token=t-{MARK}&space=ops",
        ),
    )
    shown = describe(cfg)
    assert MARK not in json.dumps(shown)
    assert shown["es"]["url"] == "https://es.example:9200"
    assert (
        shown["alert"]["kibana_url"]
        == "https://kibana.example/?auth_token=::es_redacted::&space=ops"
    )


def test_readyz_reason_shows_urls_without_secrets() -> None:
    import urllib.error
    import urllib.request

    from prometheus_client import CollectorRegistry

    from pipeline.telemetry import Heartbeat, StatusServer

    reason = f"Elasticsearch at http://u:pw-{MARK}@127.0.0.1:9200/?token=t-{MARK} is unreachable"
    server = StatusServer(CollectorRegistry(), Heartbeat(), lambda: reason, "127.0.0.1", 0)
    server.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/readyz", timeout=5)
        body = answer.value.read().decode()
    finally:
        server.stop()
    assert answer.value.code == 503
    assert MARK not in body
    assert "http://127.0.0.1:9200/?token=::es_redacted:: is unreachable" in body


def test_es_credentials_over_plain_http_are_refused_unless_allowed(es: Elasticsearch) -> None:
    """The local node is http:// without credentials: that keeps working. Credentials for
    it are refused with the setting to change, and work once allow_insecure says so."""
    plain = ElasticsearchConfig()
    assert es_client.connect(plain).cluster.health()["status"] in ("green", "yellow")
    with_password = replace(plain, username="elastic", password=f"pw-{MARK}")
    with pytest.raises(ConfigError) as refused:
        es_client.connect(with_password)
    assert "es.allow_insecure" in str(refused.value) and MARK not in str(refused.value)
    with pytest.raises(ConfigError):
        es_client.connect(replace(plain, api_key=f"key-{MARK}"))
    # The node has no security module: it ignores the credentials it is sent.
    allowed = es_client.connect(replace(with_password, allow_insecure=True))
    assert allowed.cluster.health()["status"] in ("green", "yellow")
    # The CLI refuses before it connects, naming the setting.
    result = CliRunner().invoke(
        main, ["check"], env={"EDGEWATCH_ES_USERNAME": "elastic", "EDGEWATCH_ES_PASSWORD": "x"}
    )
    assert result.exit_code == 1 and "es.allow_insecure" in result.output
