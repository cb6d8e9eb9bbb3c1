"""The rule format: its JSON Schema (the one source of truth, also for editors), reading rule
files defensively, validating them, and loading a rules folder."""
