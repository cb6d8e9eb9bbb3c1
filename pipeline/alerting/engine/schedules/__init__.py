"""When a watch runs: Watcher's `trigger.schedule`, pure, apart from the scheduler that fires it.

Modules: `schedule` (parse_schedule, Schedule and its kinds, time zones, interval anchors),
`cron` (the Quartz cron engine and its syntax), `calendar` (hourly ... yearly schedules as the
cron texts Watcher turns them into) and `trigger` (the APScheduler trigger).
"""
