"""Scripts run in the production Elasticsearch get its credentials; another server none."""

from __future__ import annotations

from dataclasses import replace

import httpx

from pipeline.alerting.adapters import _es_auth
from pipeline.config import Config


def _config(painless_url: str, **es: object) -> Config:
    config = Config()
    return replace(
        config,
        es=replace(config.es, url="https://es.example:9200", **es),  # type: ignore[arg-type]
        alert=replace(config.alert, painless_url=painless_url),
    )


def test_the_elasticsearch_url_gets_the_api_key() -> None:
    options = _es_auth(_config("https://es.example:9200/", api_key="abc=="))
    assert options == {"headers": {"Authorization": "ApiKey abc=="}}


def test_the_elasticsearch_url_gets_basic_auth() -> None:
    options = _es_auth(_config("https://es.example:9200", username="ew", password="pw"))
    auth = options["auth"]
    assert isinstance(auth, httpx.BasicAuth)
    request = next(auth.auth_flow(httpx.Request("GET", "https://es.example:9200")))
    assert request.headers["Authorization"] == httpx.BasicAuth("ew", "pw")._auth_header


def test_another_server_gets_no_credentials() -> None:
    assert _es_auth(_config("http://127.0.0.1:9201", username="ew", password="pw")) == {}
