"""The corpus's log lines per format family, with what their sources state about them.

    samples(corpus_root) -> list[Sample]

A sample is one log line exactly as the software wrote it, from ../shared/corpus/formats/
(read at run time; nothing is copied into the project): raw log files, lnav's format samples,
the expected-output transcriptions, and test sources that pair a line with its expected
parse (Vector's glog/klog, go-syslog, EasyPost, logstash-patterns-core's grok specs). Each
source kind has its extractor module; `load` also says what was skipped and why.

Continuation lines of multi-line entries (stack frames, indented lines) are samples too,
marked `continuation`: edgewatch gets each line on its own when the shipper does not join them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.corpus.extract_code import easypost_samples, go_syslog_samples, vrl_samples
from tests.corpus.extract_files import (
    attach_transcriptions,
    lnav_samples,
    raw_samples,
)
from tests.corpus.extract_specs import spec_samples
from tests.corpus.model import LEVEL_NAMES, LEVELS, Sample, Skip, is_continuation, level

__all__ = [
    "LEVELS",
    "LEVEL_NAMES",
    "Loaded",
    "Sample",
    "Skip",
    "is_continuation",
    "level",
    "load",
    "samples",
]

# Sources in formats/ that no extractor reads, and why (the report's footer says so too).
NOT_READ = (
    ("formats/logfmt/", "logfmt sources are left out (key=value test vectors, not log lines)"),
    (
        "formats/access_logs/vrl/, formats/syslog/vrl/, formats/kubernetes_cri/ (but parse_klog)",
        "Vector's access-log and syslog vectors, Fluent Bit's and fluentd's CRI tests: not listed",
    ),
    (
        "formats/docker_json_file/beats-readjson/, fluent-bit/kubernetes_out/",
        "Beats' reader-case transcription and Fluent Bit's expected output: not listed",
    ),
    ("grok pattern files, core_spec.rb, *_log.json, parsers.conf", "definitions, not lines"),
)


@dataclass(frozen=True)
class Loaded:
    """The samples, and the cases of the read sources that did not become samples."""

    samples: list[Sample]
    skipped: list[Skip]

    def skipped_summary(self) -> list[Skip]:
        """The skips added up per (source, reason), in first-seen order."""
        total: Counter[tuple[str, str]] = Counter()
        for skip in self.skipped:
            total[(skip.source, skip.why)] += skip.count
        return [Skip(source, count, why) for (source, why), count in total.items()]


def load(root: Path) -> Loaded:
    """Every sample of the corpus at `root` (the folder holding formats/), and the skips."""
    formats = root / "formats"
    if not formats.is_dir():
        raise FileNotFoundError(f"no corpus formats/ folder at {root}")
    found, skipped = attach_transcriptions(root, list(raw_samples(root)))
    found += lnav_samples(root)
    for extract in (vrl_samples, go_syslog_samples, easypost_samples, spec_samples):
        more, skips = extract(root)
        found += more
        skipped += skips
    return Loaded(found, skipped)


def samples(root: Path) -> list[Sample]:
    """Every sample of the corpus at `root` (the folder holding formats/)."""
    return load(root).samples
