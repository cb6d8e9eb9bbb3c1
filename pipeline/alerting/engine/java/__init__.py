"""Watcher's Java semantics, written once: `lang` (how values print and parse), `dates`
(Elasticsearch dates and date math) and `durations` (time values and intervals).

Watcher runs on the JVM, so wherever a watch turns a value into text, text into a number or a
date, or a duration into time, Java decides the result; conditions, templates, schedules,
throttles and records all go through these modules so the answer is the same everywhere.
"""
