"""What a librdkafka failure says about edgewatch's Kafka settings. Pure.

librdkafka retries every failed connection for ever, logging each attempt: a wrong password,
a CA that did not sign the broker's certificate, or a plaintext client on a TLS port all look
like an endless stream of reconnects. `diagnose` turns one such report into the setting to fix;
`pipeline.clients.kafka.ErrorWatch` applies it to a client's error callback and log lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config import KafkaConfig

# librdkafka's own error codes (rd_kafka_resp_err_t), as confluent-kafka's KafkaError carries.
AUTHENTICATION = -169
SSL = -181
# A failure that could be a broker restart as well as a wrong setting is only blamed on the
# setting after this many in a row.
REPEATS_BEFORE_BLAME = 2


@dataclass(frozen=True)
class SetupProblem:
    """A Kafka setting that cannot work, and what to do about it."""

    setting: str  # dotted config key, e.g. "kafka.sasl_password"
    message: str
    # False: seen once it is certain (a refused login); True: only after REPEATS_BEFORE_BLAME.
    needs_repeats: bool = False


def _env(setting: str) -> str:
    return "EDGEWATCH_" + setting.upper().replace(".", "_")


def _fix(setting: str) -> str:
    return f"set {setting} ({_env(setting)})"


def diagnose(code: int | None, text: str, config: KafkaConfig) -> SetupProblem | None:
    """The setting a librdkafka error (its code, if any, and its text) points at, or None
    when the failure says nothing about the settings (a broker down, a network cut)."""
    where = config.bootstrap
    lowered = text.lower()
    if code == AUTHENTICATION or "sasl authentication error" in lowered:
        if "unsupported sasl mechanism" in lowered:
            return SetupProblem(
                "kafka.sasl_mechanism",
                f"Kafka at {where} does not accept SASL mechanism {config.sasl_mechanism}: "
                f"{_fix('kafka.sasl_mechanism')} to one the broker enables",
            )
        return SetupProblem(
            "kafka.sasl_password",
            f"Kafka at {where} refused the {config.sasl_mechanism} login of user "
            f"{config.sasl_username!r}: check kafka.sasl_username and "
            f"{_fix('kafka.sasl_password')}",
        )
    if "certificate verify failed" in lowered:
        if "hostname" in lowered or "ip address mismatch" in lowered:
            return SetupProblem(
                "kafka.bootstrap",
                f"the certificate of the broker at {where} does not name the host dialled: "
                f"{_fix('kafka.bootstrap')} to a name the certificate carries",
            )
        ca = config.ssl_ca_location or "the system's CA store"
        return SetupProblem(
            "kafka.ssl_ca_location",
            f"the certificate of the broker at {where} is not signed by a CA in {ca}: "
            f"{_fix('kafka.ssl_ca_location')} to the PEM file of the CA that signed it",
        )
    if code == SSL or "ssl handshake failed" in lowered or "wrong version number" in lowered:
        if "wrong version number" in lowered or "packet length too long" in lowered:
            return SetupProblem(
                "kafka.security_protocol",
                f"the broker at {where} does not speak TLS on this port, but "
                f"kafka.security_protocol is {config.security_protocol}: "
                f"{_fix('kafka.security_protocol')} to the listener's protocol",
            )
        return SetupProblem(
            "kafka.ssl_ca_location",
            f"TLS with the broker at {where} failed ({_short(text)}): check "
            f"kafka.ssl_ca_location, kafka.ssl_certificate_location and kafka.ssl_key_location",
        )
    if config.security_protocol in ("PLAINTEXT", "SASL_PLAINTEXT") and re.search(
        r"disconnected.*in state (apiversion_query|auth_handshake)", lowered
    ):
        return SetupProblem(
            "kafka.security_protocol",
            f"the broker at {where} closes every {config.security_protocol} connection at its "
            f"first request, as a TLS or SASL listener does: {_fix('kafka.security_protocol')} "
            "(e.g. SASL_SSL) and the settings that go with it",
            needs_repeats=True,
        )
    if (
        config.security_protocol == "SSL"
        and "ssl connection closed by peer" in lowered
        and "in state up" in lowered
    ):
        return SetupProblem(
            "kafka.security_protocol",
            f"the broker at {where} accepts TLS but then closes the connection, as a SASL_SSL "
            f"listener does with a client that does not log in: "
            f"{_fix('kafka.security_protocol')} to SASL_SSL with a sasl_mechanism and user",
            needs_repeats=True,
        )
    return None


def _short(text: str) -> str:
    return text.split(": ", 1)[-1][:200]
