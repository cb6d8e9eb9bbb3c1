"""The corpus layer: edgewatch against what each third-party source states about its lines.

Every timestamp a source states is read exactly (to the microsecond, in UTC; a wall-clock
time without a zone as UTC); every stated level and header-less message matches, but for the
few cases in `KNOWN`, each with why it cannot. A case that starts to pass must leave `KNOWN`,
so the list stays true. No line is ever dated more than a day after its receive time.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.corpus.formats import samples
from tests.corpus.judge import Outcome, reference_for, run

_JAVA = "formats/java_log4j_logback/logstash-patterns-core/spec/patterns/java_spec.rb"
_TWO_LINES = "Tomcat 7 and java.util.logging write the level on the entry's second line"
KNOWN: dict[str, str] = {
    f"{_JAVA}:62": _TWO_LINES,
    f"{_JAVA}:84": _TWO_LINES,
    f"{_JAVA}:245": _TWO_LINES,
    f"{_JAVA}:267": _TWO_LINES,
    "formats/apache_error/logstash-patterns-core/spec/patterns/httpd_spec.rb:100": (
        "grok also drops Apache's '(70008)...: [client ...] AH01075:' status prefix from the "
        "message; edgewatch keeps what follows the header's brackets"
    ),
}


@pytest.fixture(scope="module")
def outcomes(corpus: Path) -> list[Outcome]:
    return [run(sample) for sample in samples(corpus)]


def test_every_stated_timestamp_is_read(outcomes: list[Outcome]) -> None:
    stated = [o for o in outcomes if o.timestamp_ok is not None]
    assert len(stated) >= 100
    wrong = [
        (o.sample.source, o.sample.line[:80], o.timestamp) for o in stated if not o.timestamp_ok
    ]
    assert wrong == []


def test_stated_levels_and_messages(outcomes: list[Outcome]) -> None:
    judged = [o for o in outcomes if o.level_ok is not None or o.message_ok is not None]
    assert len(judged) >= 100
    wrong = {o.sample.source for o in judged if o.level_ok is False or o.message_ok is False}
    assert sorted(wrong - KNOWN.keys()) == []
    assert sorted(KNOWN.keys() - wrong) == [], "these pass now: take them out of KNOWN"


def test_no_line_is_dated_ahead_of_its_receipt(outcomes: list[Outcome]) -> None:
    day = timedelta(days=1)
    dated = [(o.sample, o.timestamp) for o in outcomes if o.timestamp is not None]
    assert len(dated) > 1000
    assert [s.source for s, at in dated if at > reference_for(s) + day] == []
