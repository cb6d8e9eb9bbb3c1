"""`edgewatch ingest` with the parse step replaced by one constant document.

`make bench-ingest` runs this beside the real service to show what the rest of ingest (the
consumer loop, batching, bulk requests, commits) costs with parsing taken away: the ratio the
service would reach if parsing were free. It is a measuring tool, not a way to run ingest.

The constant document is made one message at a time, on the loop the service uses without
the native core: the native core takes whole polls, and a constant stand-in for it would
measure nothing real. So this figure is a floor: the service's own loop now costs less.

    EDGEWATCH_BENCH_DOCUMENT='{"message": ...}' python -m bench.pipeline_only --topics T ...
"""

from __future__ import annotations

import os
import sys
from datetime import date, datetime

from pipeline.cli import main
from pipeline.config import IngestConfig, TopicConfig
from pipeline.ingest import intake, transform
from pipeline.ingest.actions import IndexAction, Origin, bulk_op_type, index_action
from pipeline.ingest.transform import Validator, dated_index

SOURCE = os.environ.get("EDGEWATCH_BENCH_DOCUMENT", "").encode()
DAY = date.today()


class ConstantDocument:
    """What the service's Transformer returns for a good message, without looking at it."""

    def __init__(
        self, settings: IngestConfig, topic: TopicConfig, validator: Validator | None = None
    ) -> None:
        self.index = dated_index(settings.index_prefix, DAY)
        self.op_type = bulk_op_type(settings)

    def __call__(self, value: bytes | None, origin: Origin, ingested: datetime) -> IndexAction:
        return index_action(origin, self.index, SOURCE, value or b"", self.op_type)


if __name__ == "__main__":
    if not SOURCE:
        raise SystemExit("set EDGEWATCH_BENCH_DOCUMENT to the JSON document to index")
    intake.Transformer = ConstantDocument  # type: ignore[attr-defined,assignment]
    transform.NATIVE = None  # one message at a time (see above)
    main(["ingest", *sys.argv[1:]])
