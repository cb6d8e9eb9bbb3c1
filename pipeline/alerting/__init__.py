"""Alerting: Watcher-format alert rules, their schema, validation and (later) evaluation."""
