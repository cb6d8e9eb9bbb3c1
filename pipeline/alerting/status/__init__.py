"""What a rule remembers between runs: Watcher's watch status (active flag, per-action ack and
throttle), its keyed alerts, and the store that keeps them in Elasticsearch with the history."""
