"""Installing the index template (and its ILM policy) at start, before anything is read."""

from __future__ import annotations

import logging
import threading
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.clients import elasticsearch as es_client
from pipeline.config import Config, IngestConfig
from pipeline.ingest import bulk, template
from pipeline.ingest.source import SetupError

log = logging.getLogger("edgewatch.ingest")


def install(client: Elasticsearch, config: Config, stop: threading.Event) -> bool:
    """Install the ILM policy (if asked for) and the index template, retrying with backoff
    while Elasticsearch is unreachable or busy; True once installed, False if `stop` came
    first. Raises SetupError when only the operator can fix it (credentials, a conflicting
    template, no ILM)."""
    settings = config.ingest
    attempt = 0
    backoff = bulk.Backoff(cap_s=settings.retry_backoff_max_s)
    while not stop.is_set():
        es = client.options(request_timeout=10, max_retries=0)
        try:
            policy = template.ilm_policy(settings)
            if policy is not None:  # before the template that names it
                _put_policy(es, settings, policy)
            es.indices.put_index_template(
                name=template.template_name(settings),
                **template.template_body(settings),
            )
            log.info(
                "index template %s installed for %s",
                template.template_name(settings),
                template.index_pattern(settings),
            )
            return True
        except ApiError as err:
            advice = es_client.explain(err, config.es)
            if advice:
                raise SetupError(advice) from err
            if err.meta.status < 500 and err.meta.status != 429:
                raise SetupError(
                    f"Elasticsearch refused the index template "
                    f"{template.template_name(settings)}: {err.message} "
                    f"({err.body}). Choose an ingest.index_prefix whose indices no other "
                    "template of the same priority matches, or remove that template."
                ) from err
            delay = backoff.delay(attempt)
            log.warning("cannot install the index template (%s); retrying in %.1f s", err, delay)
            attempt += 1
            stop.wait(delay)
        except TransportError as err:
            advice = es_client.explain(err, config.es)
            if advice:  # a wrong CA or scheme: retrying cannot help
                raise SetupError(advice) from err
            delay = backoff.delay(attempt)
            log.warning(
                "cannot install the index template (%s); Elasticsearch at %s "
                "unreachable? retrying in %.1f s",
                err,
                config.es.url,
                delay,
            )
            attempt += 1
            stop.wait(delay)
    return False


def _put_policy(es: Elasticsearch, settings: IngestConfig, policy: dict[str, Any]) -> None:
    name = template.template_name(settings)
    try:
        es.ilm.put_lifecycle(name=name, policy=policy)
    except ApiError as err:
        if err.meta.status < 500 and err.meta.status != 429:
            raise SetupError(
                f"Elasticsearch refused the ILM policy {name}: {err.message} ({err.body}). "
                "ILM needs Elasticsearch's default distribution; without it, unset "
                "ingest.ilm_delete_after_days and delete old indices yourself."
            ) from err
        raise
    log.info("ILM policy %s installed: %s", name, policy["phases"])
