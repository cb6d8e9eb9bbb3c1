"""Send one notification: email over SMTP (aiosmtplib), webhook over HTTP (httpx). Adapters.

Each returns the server's reply on acceptance and raises `DeliveryError` carrying a
`delivery.Failure` otherwise, so the courier's retry decisions stay pure. Credentials come
from the configuration here, at send time; they are never stored with the notification.
"""

from __future__ import annotations

import aiosmtplib
import httpx

from pipeline.alerting import email, webhook
from pipeline.alerting.delivery import Failure, http_failure, smtp_failure
from pipeline.alerting.notifications import Notification
from pipeline.config import SmtpConfig, WebhookConfig


class DeliveryError(Exception):
    """One attempt failed; `failure` says why and whether to try again."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


async def send_email(notification: Notification, smtp: SmtpConfig) -> str:
    """Hand the message to the configured SMTP server; its reply on acceptance."""
    message = email.message(notification, smtp.from_address)
    recipients = email.recipients(notification.content)
    if not recipients:
        raise DeliveryError(Failure("the email has no recipients (to, cc, bcc)", False))
    try:
        _refused, reply = await aiosmtplib.send(
            message,
            recipients=recipients,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            use_tls=smtp.security == "tls",
            start_tls=smtp.security == "starttls",
            cert_bundle=str(smtp.ca_certs) if smtp.ca_certs else None,
            timeout=smtp.timeout_s,
        )
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
    notification: Notification, config: WebhookConfig, client: httpx.AsyncClient
) -> str:
    """Send the webhook request; the status line on a 2xx answer."""
    stored = notification.content
    headers = webhook.request_headers(
        stored, notification.id, config.hmac_secret, config.signature_header
    )
    auth = None
    if stored.get("username"):
        auth = httpx.BasicAuth(str(stored["username"]), config.password or "")
    timeout = httpx.Timeout(
        min(float(stored.get("read_timeout_s") or config.read_timeout_s), config.read_timeout_s),
        connect=min(
            float(stored.get("connect_timeout_s") or config.connect_timeout_s),
            config.connect_timeout_s,
        ),
    )
    try:
        response = await client.request(
            str(stored["method"]),
            str(stored["url"]),
            headers=headers,
            content=str(stored.get("body", "")).encode(),
            auth=auth,
            timeout=timeout,
        )
    except httpx.HTTPError as err:
        reason = f"{stored['method']} {stored['url']}: {type(err).__name__}: {err}"
        raise DeliveryError(Failure(reason, True)) from err
    failure = http_failure(response.status_code, response.text, response.headers.get("retry-after"))
    if failure is not None:
        raise DeliveryError(failure)
    return f"HTTP {response.status_code}"
