"""`edgewatch ingest` with the parse step replaced by one constant document.

`make bench-ingest` runs this beside the real service to show what the rest of ingest (the
consumer loop, batching, bulk requests, commits) costs with parsing taken away: the ratio the
service would reach if parsing were free. It is a measuring tool, not a way to run ingest.

The service's Intake is replaced by one that makes the constant document of every message
in Python, one message at a time, where the native core takes whole polls: so this figure
is a floor, the service's own loop costs less.

    EDGEWATCH_BENCH_DOCUMENT='{"message": ...}' python -m bench.pipeline_only --topics T ...
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime

from confluent_kafka import KafkaError, Message

from pipeline.cli import main
from pipeline.config import IngestConfig
from pipeline.ingest import service
from pipeline.ingest.actions import bulk_op_type, index_action, origin_of
from pipeline.ingest.inflight import InFlight
from pipeline.ingest.intake import Intake

SOURCE = os.environ.get("EDGEWATCH_BENCH_DOCUMENT", "").encode()
DAY = date.today()


class ConstantIntake(Intake):
    """What the service's Intake puts in the batch for a good message, without looking at
    it: the constant document, with the message's offsets and counts recorded."""

    def __init__(
        self,
        settings: IngestConfig,
        batches: InFlight,
        on_error: Callable[[KafkaError], None],
    ) -> None:
        super().__init__(settings, batches, on_error)
        self.index = f"{settings.index_prefix}-{DAY:%Y.%m.%d}"
        self.op_type = bulk_op_type(settings)

    def take(self, messages: list[Message], received: datetime) -> None:
        batches = self.batches
        for message in messages:
            error = message.error()
            if error is not None:
                self.on_error(error)
                continue
            origin = origin_of(message)
            batch = batches.open
            self.consumed[origin.topic] = self.consumed.get(origin.topic, 0) + 1
            batch.last_offsets[(origin.topic, origin.partition)] = origin.offset
            if origin.topic.endswith(self.settings.dlq_suffix):
                continue  # never indexed, as the service skips them
            value = message.value() or b""
            action = index_action(origin, self.index, SOURCE, value, self.op_type)
            batch.actions.append(action)
            batch.size_bytes += len(action.entry)
            if batches.complete() and not batches.full():
                batches.submit()


if __name__ == "__main__":
    if not SOURCE:
        raise SystemExit("set EDGEWATCH_BENCH_DOCUMENT to the JSON document to index")
    service.Intake = ConstantIntake  # type: ignore[attr-defined]
    main(["ingest", *sys.argv[1:]])
