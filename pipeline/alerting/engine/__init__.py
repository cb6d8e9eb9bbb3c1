"""Running a watch: inputs, conditions, transforms and actions (execute), Watcher's mustache,
its schedules, Painless scripts, Watcher's Java semantics, and the late-data decisions."""
