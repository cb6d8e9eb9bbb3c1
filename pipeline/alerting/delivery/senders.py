"""Send one notification: email over SMTP (aiosmtplib), webhook over HTTP (httpx). Adapters.

Each returns the server's reply on acceptance and raises `DeliveryError` carrying a
`delivery.Failure` otherwise, so the courier's retry decisions stay pure. Credentials come
from the configuration here, at send time; they are never stored with the notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiosmtplib
import httpx

from pipeline.alerting import outbound, outbound_http
from pipeline.alerting.delivery import email, webhook
from pipeline.alerting.delivery.notifications import Notification
from pipeline.alerting.delivery.retry import Failure, http_failure, smtp_failure
from pipeline.alerting.outbound import OutboundRefusedError
from pipeline.config import SmtpConfig, WebhookConfig
from pipeline.redact import redact_text, redact_url


class DeliveryError(Exception):
    """One attempt failed; `failure` says why and whether to try again."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def login_refusal(smtp: SmtpConfig, encrypted: bool) -> str | None:
    """Why the configured SMTP login must not be sent on this connection, or None: a
    username and password go only over TLS that was actually negotiated, unless
    `smtp.allow_insecure` says the network is trusted."""
    if not smtp.username or encrypted or smtp.allow_insecure:
        return None
    return (
        f"SMTP server {smtp.host}:{smtp.port} did not negotiate TLS (smtp.security ="
        f" {smtp.security}), so the login of smtp.username was not sent in clear text; use a"
        " server that offers STARTTLS or TLS (smtp.security = starttls or tls), or set"
        " smtp.allow_insecure = true (EDGEWATCH_SMTP_ALLOW_INSECURE) if the network is trusted"
    )


# smtp.security -> aiosmtplib's start_tls: True requires STARTTLS, None uses it when offered.
_START_TLS: dict[str, bool | None] = {
    "opportunistic": None,
    "starttls": True,
    "none": False,
    "tls": False,
}


async def send_email(notification: Notification, smtp: SmtpConfig) -> str:
    """Hand the message to the configured SMTP server; its reply on acceptance."""
    message = email.message(notification, smtp.from_address, email.HtmlPolicy.of(smtp))
    recipients = email.recipients(notification.content)
    if not recipients:
        raise DeliveryError(Failure("the email has no recipients (to, cc, bcc)", False))
    # The login is not handed to the client: it would log in on connect, before we could
    # see whether TLS was negotiated.
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        use_tls=smtp.security == "tls",
        start_tls=_START_TLS[smtp.security],
        cert_bundle=str(smtp.ca_certs) if smtp.ca_certs else None,
        timeout=smtp.timeout_s,
    )
    try:
        async with client:
            encrypted = client.get_transport_info("sslcontext") is not None
            refusal = login_refusal(smtp, encrypted)
            if refusal is not None:
                raise DeliveryError(Failure(refusal, False))
            if smtp.username:
                await client.login(smtp.username, smtp.password or "")
            _refused, reply = await client.send_message(message, recipients=recipients)
    except aiosmtplib.SMTPRecipientsRefused as err:
        worst = max((r.code for r in err.recipients), default=550)
        raise DeliveryError(smtp_failure(worst, str(err))) from err
    except aiosmtplib.SMTPResponseException as err:
        raise DeliveryError(smtp_failure(err.code, err.message)) from err
    except (aiosmtplib.SMTPException, OSError) as err:
        where = f"{smtp.host}:{smtp.port}"
        raise DeliveryError(smtp_failure(None, f"SMTP server {where}: {err}")) from err
    return reply


async def send_webhook(
    notification: Notification,
    config: WebhookConfig,
    client: httpx.AsyncClient,
    max_response_bytes: int = 10 * 1024 * 1024,
) -> str:
    """Send the webhook request; the status line on a 2xx answer.

    `client` is an `outbound_http.async_client`, which refuses hosts `[http] allowed_hosts`
    does not allow; the configured password goes only to `webhook.credential_hosts`. Both
    refusals, an unusable URL and an answer longer than `max_response_bytes` fail for good.
    """
    stored = notification.content
    url = str(stored["url"])
    own = webhook.request_headers(
        stored, notification.id, config.hmac_secret, config.signature_header
    )
    # Without a Content-Type of the rule's, the type Watcher's HttpClient would send.
    headers = {
        **outbound_http.IDENTITY,
        **outbound_http.with_content_type(own, str(stored.get("body", ""))),
    }
    try:
        auth = _webhook_auth(stored, config, outbound.target(url))
    except OutboundRefusedError as err:
        raise DeliveryError(Failure(str(err), False)) from err
    timeout = httpx.Timeout(
        min(float(stored.get("read_timeout_s") or config.read_timeout_s), config.read_timeout_s),
        connect=min(
            float(stored.get("connect_timeout_s") or config.connect_timeout_s),
            config.connect_timeout_s,
        ),
    )
    try:
        async with client.stream(
            str(stored["method"]),
            url,
            headers=headers,
            content=str(stored.get("body", "")).encode(),
            auth=auth,
            timeout=timeout,
        ) as response:
            body = await outbound_http.aread_capped(response, max_response_bytes)
    except OutboundRefusedError as err:
        raise DeliveryError(Failure(str(err), False)) from err
    except outbound_http.ResponseTooLargeError as err:
        # The receiver may well have acted on the request; sending it again would repeat it.
        reason = f"{stored['method']} {redact_url(url)}: {redact_text(str(err))}; not retried"
        raise DeliveryError(Failure(reason, False)) from err
    except httpx.HTTPError as err:
        # Failure reasons reach the outbox and the logs: no URL token or userinfo in them.
        reason = (
            f"{stored['method']} {redact_url(url)}: {type(err).__name__}: {redact_text(str(err))}"
        )
        raise DeliveryError(Failure(reason, True)) from err
    text = outbound_http.text_of(response, body)
    failure = http_failure(response.status_code, text, response.headers.get("retry-after"))
    if failure is not None:
        raise DeliveryError(failure)
    return f"HTTP {response.status_code}"


def _webhook_auth(
    stored: Mapping[str, Any], config: WebhookConfig, target: outbound.Target
) -> httpx.BasicAuth | None:
    """Basic auth with the configured password, only for `webhook.credential_hosts`.

    A request that asks for the password on another host fails rather than going without
    it: the receiver would refuse it anyway, and the failure names the setting to fix.
    """
    if not stored.get("username"):
        return None
    if config.password and not outbound.credentials_allowed(
        outbound.parse_all(config.credential_hosts), target
    ):
        raise OutboundRefusedError(
            f"the webhook to {target.hostport} asks for basic auth, but {target.hostport} is"
            " not in webhook.credential_hosts (EDGEWATCH_WEBHOOK_CREDENTIAL_HOSTS), so the"
            " configured password was not sent; add the host there if it is the password's"
        )
    return httpx.BasicAuth(str(stored["username"]), config.password or "")
