"""Retired hosts (adapter): hosts taken out of the fleet stop producing silent-node alerts.

One document, id `retired`, in `alert.hosts_index` (default `edgewatch-hosts`), holds the
sorted host names: `{"hosts": ["edge-07", ...], "updated": ...}`. The silent-node rule leaves
them out with Elasticsearch's own terms lookup,

    "must_not": {"terms": {"host.name": {"index": "edgewatch-hosts", "id": "retired",
                                         "path": "hosts"}}}

so the rule stays a plain Watcher watch that runs unmodified elsewhere. A terms lookup on a
missing index fails the search, hence `install` (the alert service runs it at start).
Changes use optimistic concurrency: two operators retiring hosts at once both win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from pipeline.clients import elasticsearch as es_client

RETIRED_ID = "retired"


class RetiredHosts:
    """Reads and changes the retired-hosts document."""

    def __init__(self, es: Elasticsearch, index: str = "edgewatch-hosts") -> None:
        self.es = es
        self.index = index

    def install(self) -> None:
        """The index, unless it exists (the document itself may be absent: none retired)."""
        es_client.create_index(
            self.es,
            self.index,
            {
                "dynamic": False,
                "properties": {"hosts": {"type": "keyword"}, "updated": {"type": "date"}},
            },
        )

    def names(self) -> list[str]:
        """The retired host names, sorted."""
        return sorted(self._read()[0])

    def retire(self, names: Iterable[str]) -> list[str]:
        """Add hosts; returns the new list."""
        wanted = set(names)
        return self._change(lambda hosts: hosts | wanted)

    def unretire(self, names: Iterable[str]) -> list[str]:
        """Remove hosts; returns the new list."""
        gone = set(names)
        return self._change(lambda hosts: hosts - gone)

    def _read(self) -> tuple[set[str], tuple[int, int] | None]:
        try:
            doc = self.es.get(index=self.index, id=RETIRED_ID)
        except NotFoundError:
            return set(), None
        hosts = doc["_source"].get("hosts") or []
        return {str(h) for h in hosts}, (int(doc["_seq_no"]), int(doc["_primary_term"]))

    def _change(self, change: Callable[[set[str]], set[str]]) -> list[str]:
        self.install()
        for _ in range(5):
            hosts, version = self._read()
            new = sorted(change(hosts))
            body = {"hosts": new, "updated": datetime.now(UTC).isoformat()}
            try:
                if version is None:
                    self.es.create(index=self.index, id=RETIRED_ID, document=body, refresh=True)
                else:
                    self.es.index(
                        index=self.index,
                        id=RETIRED_ID,
                        document=body,
                        if_seq_no=version[0],
                        if_primary_term=version[1],
                        refresh=True,
                    )
                return new
            except ConflictError:
                continue
        raise RuntimeError("the retired-hosts document kept changing while updating it")
