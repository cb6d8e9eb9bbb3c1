"""The secret parts of a webhook notification (its URL's tokens, its credential headers),
encrypted in the outbox document: the outbox can be read without them, and the courier still
sends the real request. What counts as secret is pipeline/redact.py's rule.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from pipeline.redact import REDACTED, SECRET_HEADERS, redact_url


class SealError(Exception):
    """A sealed notification cannot be opened with this process's key."""


class Sealer:
    """Encrypts the secret parts of webhook notifications for the outbox (Fernet: AES with an
    HMAC, so a changed document is refused too).

    The key comes from `alert.outbox_key`; without one each process makes its own, so what
    a stopped process left pending with secrets cannot be sent by the next one (it fails with
    a reason naming the setting) while everything without secrets is unaffected.
    """

    def __init__(self, passphrase: str | None = None) -> None:
        if passphrase:
            raw = hashlib.sha256(passphrase.encode()).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(raw))
        else:
            self._fernet = Fernet(Fernet.generate_key())

    def seal(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The content to store: secrets masked, and sealed under `sealed` if there were any."""
        public = dict(content)
        secret: dict[str, Any] = {}
        url = content.get("url")
        if isinstance(url, str) and redact_url(url) != url:
            secret["url"] = url
            public["url"] = redact_url(url)
        headers = content.get("headers")
        if isinstance(headers, Mapping):
            hidden = {k: v for k, v in headers.items() if str(k).lower() in SECRET_HEADERS}
            if hidden:
                secret["headers"] = hidden
                public["headers"] = {k: REDACTED if k in hidden else v for k, v in headers.items()}
        if not secret:
            return public
        public["sealed"] = self._fernet.encrypt(json.dumps(secret).encode()).decode()
        return public

    def open(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The content to send: the stored one with its sealed secrets put back."""
        if "sealed" not in content:
            return dict(content)
        try:
            secret = json.loads(self._fernet.decrypt(str(content["sealed"]).encode()))
        except InvalidToken:
            raise SealError(
                "its URL token or credential header was sealed with another key: set the same"
                " alert.outbox_key (EDGEWATCH_ALERT_OUTBOX_KEY) on every alert process so"
                " pending webhooks survive a restart"
            ) from None
        opened = {k: v for k, v in content.items() if k != "sealed"}
        if "url" in secret:
            opened["url"] = secret["url"]
        if "headers" in secret:
            opened["headers"] = {**dict(opened.get("headers") or {}), **secret["headers"]}
        return opened
