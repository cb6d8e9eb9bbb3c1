"""A local mail inbox: an SMTP server (aiosmtpd) that saves every message as an .eml file.

`make demo` runs it so alerts have somewhere to land; run it alone to try `edgewatch alert`
by hand:

    .venv/bin/python deploy/local/inbox.py --port 2525          # saves to .edgewatch/inbox/
    EDGEWATCH_SMTP_PORT=2525 .venv/bin/edgewatch alert --rules rules/

Open the .eml files with any mail reader (or `python -m email` friends); each file name holds
the arrival time and the subject.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FOLDER = ROOT / ".edgewatch" / "inbox"

Listener = Callable[[Path, EmailMessage], None]


class Inbox:
    """Accepts every message on host:port and writes it to `folder`."""

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        port: int = 2525,
        on_mail: Listener | None = None,
    ) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self.on_mail = on_mail
        self.count = 0
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname=host, port=port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.count += 1
            slug = re.sub(r"[^A-Za-z0-9]+", "-", str(message.get("Subject", "")))[:60].strip("-")
            path = self.folder / f"{self.count:03d}-{time.strftime('%H%M%S')}-{slug}.eml"
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(envelope.content)
        if self.on_mail is not None:
            self.on_mail(path, message)
        return "250 Saved"

    def start(self) -> Inbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", type=Path, default=DEFAULT_FOLDER, help="where .eml files go")
    args = parser.parse_args()

    def show(path: Path, message: EmailMessage) -> None:
        print(f"inbox: {message['Subject']}\n       {path}", flush=True)

    inbox = Inbox(args.dir, args.host, args.port, show).start()
    print(f"inbox: listening on {args.host}:{args.port}, saving to {args.dir} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        inbox.stop()


if __name__ == "__main__":
    main()
