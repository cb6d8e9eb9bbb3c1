"""The Kafka client settings and the diagnosis of librdkafka failures (pure parts).

The texts below are librdkafka's own, as the secured local stack produced them
(tests/security/test_secured_stack.py proves the same end to end)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.clients import kafka as kafka_client
from pipeline.clients.kafka_errors import AUTHENTICATION, SSL, diagnose
from pipeline.config import ConfigError, KafkaConfig, load_config

SECURED = KafkaConfig(
    bootstrap="broker:9094",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="edgewatch",
    sasl_password="s3cret",
    ssl_ca_location=Path("/etc/edgewatch/ca.pem"),
)
AUTH_FAILED = (
    "sasl_ssl://broker:9094/bootstrap: SASL authentication error: Authentication failed during"
    " authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 317ms"
    " in state AUTH_REQ)"
)
BAD_CA = (
    "sasl_ssl://broker:9094/bootstrap: SSL handshake failed: error:0A000086:SSL routines::"
    "certificate verify failed: broker certificate could not be verified, verify that"
    " ssl.ca.location is correctly configured (after 11ms in state SSL_HANDSHAKE)"
)
PLAIN_ON_TLS = (
    "FAIL [edgewatch#producer-1] [thrd:broker:9094/bootstrap]: broker:9094/bootstrap:"
    " Disconnected: connection closed by peer: receive 0 after POLLIN (after 0ms in state"
    " APIVERSION_QUERY)"
)


def test_security_settings_map_to_librdkafka_keys() -> None:
    settings = kafka_client.settings(SECURED, **{"linger.ms": 5})
    assert settings["security.protocol"] == "SASL_SSL"
    assert settings["sasl.mechanism"] == "SCRAM-SHA-512"
    assert settings["sasl.username"] == "edgewatch"
    assert settings["sasl.password"] == "s3cret"
    assert settings["ssl.ca.location"] == "/etc/edgewatch/ca.pem"
    assert settings["ssl.endpoint.identification.algorithm"] == "https"
    assert settings["linger.ms"] == 5
    assert isinstance(settings["error_cb"], kafka_client.ErrorWatch)


def test_plaintext_sends_no_security_keys_and_the_passthrough_table_is_applied() -> None:
    config = KafkaConfig(librdkafka={"socket.keepalive.enable": True})
    settings = kafka_client.settings(config)
    assert settings["security.protocol"] == "PLAINTEXT"
    assert not any(k.startswith(("sasl.", "ssl.")) for k in settings)
    assert settings["socket.keepalive.enable"] is True


def test_endpoint_identification_can_be_switched_off() -> None:
    settings = kafka_client.settings(replace(SECURED, ssl_endpoint_identification=False))
    assert settings["ssl.endpoint.identification.algorithm"] == "none"


@pytest.mark.parametrize(
    ("code", "text", "setting"),
    [
        (AUTHENTICATION, AUTH_FAILED, "kafka.sasl_password"),
        (None, AUTH_FAILED, "kafka.sasl_password"),
        (SSL, BAD_CA, "kafka.ssl_ca_location"),
        (None, "SSL handshake failed: wrong version number", "kafka.security_protocol"),
        (
            AUTHENTICATION,
            "SASL authentication error: Unsupported SASL mechanism",
            "kafka.sasl_mechanism",
        ),
    ],
)
def test_failures_that_only_a_setting_fixes_name_it(
    code: int | None, text: str, setting: str
) -> None:
    problem = diagnose(code, text, SECURED)
    assert problem is not None
    assert problem.setting == setting
    assert setting in problem.message
    assert "EDGEWATCH_" in problem.message or setting == "kafka.ssl_ca_location"
    assert "s3cret" not in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "broker:9094/bootstrap: Connect to ipv4#10.0.0.1:9094 failed: Connection refused",
        "1/1 brokers are down",
        "broker:9094/1: Disconnected (after 59932ms in state UP)",
    ],
)
def test_outages_are_not_blamed_on_settings(text: str) -> None:
    assert diagnose(None, text, SECURED) is None
    assert diagnose(None, text, KafkaConfig(bootstrap="broker:9094")) is None


def test_a_plaintext_client_on_a_tls_port_is_blamed_only_when_it_repeats(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = kafka_client.ErrorWatch(KafkaConfig(bootstrap="broker:9094"))
    record = logging.LogRecord("edgewatch.kafka", logging.INFO, "", 0, PLAIN_ON_TLS, None, None)
    with caplog.at_level(logging.INFO, logger="edgewatch.kafka"):
        assert watch.filter(record) is True  # the first could be a broker going down
        assert watch.problem is None
        assert watch.filter(record) is False  # the second is reported, as one error
        assert watch.filter(record) is False  # and its repeats are dropped
    assert watch.problem is not None and watch.problem.setting == "kafka.security_protocol"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    with pytest.raises(kafka_client.KafkaSetupError) as caught:
        watch.raise_if_broken()
    assert caught.value.setting == "kafka.security_protocol"


def test_watch_keeps_quiet_lines_below_the_configured_level() -> None:
    watch = kafka_client.ErrorWatch(KafkaConfig())
    logging.getLogger("edgewatch.kafka").setLevel(logging.WARNING)
    try:
        info = logging.LogRecord("x", logging.INFO, "", 0, "CONFWARN something", None, None)
        warn = logging.LogRecord("x", logging.WARNING, "", 0, "CONFWARN something", None, None)
        assert watch.filter(info) is False
        assert watch.filter(warn) is True
    finally:
        logging.getLogger("edgewatch.kafka").setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("environ", "key", "problem"),
    [
        ({"EDGEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "kafka.sasl_mechanism", "required"),
        (
            {
                "EDGEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "EDGEWATCH_KAFKA_SASL_MECHANISM": "PLAIN",
            },
            "kafka.sasl_username",
            "needs sasl_username and sasl_password",
        ),
        (
            {
                "EDGEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "EDGEWATCH_KAFKA_SASL_MECHANISM": "PLAIN",
                "EDGEWATCH_KAFKA_SASL_USERNAME": "u",
                "EDGEWATCH_KAFKA_SASL_PASSWORD": "p",
            },
            "kafka.security_protocol",
            "unencrypted",
        ),
        ({"EDGEWATCH_KAFKA_SASL_USERNAME": "u"}, "kafka.security_protocol", "SASL settings"),
        (
            {"EDGEWATCH_KAFKA_SECURITY_PROTOCOL": "TLS"},
            "EDGEWATCH_KAFKA_SECURITY_PROTOCOL",
            "one of",
        ),
    ],
)
def test_settings_that_cannot_work_together_are_refused_at_load(
    environ: dict[str, str], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_insecure_plain_login_is_allowed_when_asked_for() -> None:
    config = load_config(
        environ={
            "EDGEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "EDGEWATCH_KAFKA_SASL_MECHANISM": "PLAIN",
            "EDGEWATCH_KAFKA_SASL_USERNAME": "u",
            "EDGEWATCH_KAFKA_SASL_PASSWORD": "p",
            "EDGEWATCH_KAFKA_ALLOW_INSECURE": "true",
        }
    )
    assert config.kafka.allow_insecure


def test_passthrough_table_refuses_keys_the_typed_settings_own(tmp_path: Path) -> None:
    path = tmp_path / "e.toml"
    path.write_text('[kafka.librdkafka]\n"sasl.password" = "x"\n"fetch.wait.max.ms" = 100\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.key == "kafka.librdkafka"
    assert "sasl.password" in caught.value.problem
    path.write_text('[kafka.librdkafka]\n"fetch.wait.max.ms" = 100\n')
    assert load_config(path, environ={}).kafka.librdkafka == {"fetch.wait.max.ms": 100}
