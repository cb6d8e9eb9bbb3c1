"""The configuration loader: defaults, TOML file, environment, and its error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, describe, load_config


def test_defaults_point_at_the_local_stack() -> None:
    config = load_config(environ={})
    assert config.kafka.bootstrap == "127.0.0.1:9092"
    assert config.es.url == "http://127.0.0.1:9200"
    assert config.log_level == "info"


def test_file_then_environment_with_environment_winning(tmp_path: Path) -> None:
    path = tmp_path / "edgewatch.toml"
    path.write_text(
        'log_level = "debug"\n'
        '[kafka]\nbootstrap = "k1:9092,k2:9092"\n'
        '[es]\nurl = "https://es.example:9200"\nrequest_timeout = 10\n'
    )
    config = load_config(path, environ={"EDGEWATCH_ES_URL": "http://other:9200"})
    assert config.log_level == "debug"
    assert config.kafka.bootstrap == "k1:9092,k2:9092"
    assert config.es.url == "http://other:9200"
    assert config.es.request_timeout == 10.0


def test_config_file_can_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "e.toml"
    path.write_text('[kafka]\nclient_id = "plant-3"\n')
    assert load_config(environ={"EDGEWATCH_CONFIG": str(path)}).kafka.client_id == "plant-3"


@pytest.mark.parametrize(
    ("environ", "key", "problem"),
    [
        ({"EDGEWATCH_ES_URL": "localhost:9200"}, "EDGEWATCH_ES_URL", "must start with http://"),
        ({"EDGEWATCH_ES_REQUEST_TIMEOUT": "soon"}, "EDGEWATCH_ES_REQUEST_TIMEOUT", "a number"),
        ({"EDGEWATCH_ES_REQUEST_TIMEOUT": "-1"}, "EDGEWATCH_ES_REQUEST_TIMEOUT", "greater than 0"),
        ({"EDGEWATCH_KAFKA_BOOTSTRAP": "kafka"}, "EDGEWATCH_KAFKA_BOOTSTRAP", "host:port"),
        ({"EDGEWATCH_LOG_LEVEL": "loud"}, "EDGEWATCH_LOG_LEVEL", "one of debug, info"),
        ({"EDGEWATCH_KAFKA_BOOTSTRAPS": "k:1"}, "EDGEWATCH_KAFKA_BOOTSTRAPS", "unknown setting"),
    ],
)
def test_bad_environment_value_names_the_key(
    environ: dict[str, str], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    assert caught.value.key == key
    assert caught.value.source == "environment"
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ('[kafka]\nbootstrp = "k:1"\n', "kafka.bootstrp", "unknown key; known keys: bootstrap"),
        ('[es]\nrequest_timeout = "x"\n', "es.request_timeout", "must be a number"),
        ("kafka = 3\n", "kafka", "must be a table"),
        ('[es]\nurl = ["http://a"]\n', "es.url", "must be a string"),
    ],
)
def test_bad_file_value_names_the_key_and_the_file(
    tmp_path: Path, toml: str, key: str, problem: str
) -> None:
    path = tmp_path / "edgewatch.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.key == key
    assert caught.value.source == str(path)
    assert problem in str(caught.value)


def test_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[kafka\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, environ={})


def test_other_tools_variables_with_our_prefix_are_ignored() -> None:
    config = load_config(environ={"EDGEWATCH_STACK_ES_HEAP": "2g", "EDGEWATCH_FOO": "1"})
    assert config == load_config(environ={})


def test_empty_optional_means_unset_and_secrets_are_masked() -> None:
    config = load_config(
        environ={
            "EDGEWATCH_ES_USERNAME": "",
            "EDGEWATCH_ES_PASSWORD": "hunter2",
            "EDGEWATCH_ES_CA_CERTS": "/etc/ca.pem",
        }
    )
    assert config.es.username is None
    shown = describe(config)
    assert shown["es"]["password"] == "********"
    assert shown["es"]["ca_certs"] == "/etc/ca.pem"
    assert "hunter2" not in repr(shown)
