"""The third-party format corpus (../shared/corpus/formats) read as samples: log lines with
what their source says about them (bench/time_coverage.py reports on them)."""
