"""When a watch runs: Watcher's `trigger.schedule` as a pure `Schedule` with `next_after(t)`.

Every calendar schedule (hourly, daily, weekly, monthly, yearly) is turned into Quartz cron
expressions exactly as Watcher does (e.g. `daily: {at: "17:00"}` is `0 0 17 * * ?`), and the
cron expressions are evaluated by `CronExpression`, written here after Quartz's documented
rules as Watcher's fork of it applies them:

    seconds minutes hours day-of-month month day-of-week [year]

with `*`, `?`, `,`, `-` (ranges may wrap, `22-2`), `/` steps, names (JAN-DEC, SUN-SAT, case
insensitive), `L`, `L-n`, `LW`, `nW` in day-of-month, `L`, `nL`, `n#k` in day-of-week (1 is
Sunday). Exactly one of day-of-month and day-of-week must be `?`.

Times are UTC unless the schedule names a `timezone` (Watcher allows it for every schedule but
`interval`); then the wall-clock fields are read in that zone. A wall time skipped by a DST jump
fires when the clock has jumped (02:30 becomes 03:30), a repeated wall time fires once, at its
first occurrence.

An `interval` schedule fires every interval counted from an anchor. Watcher anchors it at the
moment the watch was registered on the node, which is not pure; here the anchor is passed in
(default: the Unix epoch, so `5m` fires on every whole five minutes).

Modules: `schedule` (parse_schedule, Schedule and its kinds), `cron` (the Quartz engine),
`calendar` (calendar schedules as cron texts) and `trigger` (the APScheduler trigger).
"""
