"""Per-action acknowledgement and throttling, and the watch's active flag, as Watcher keeps them.

Watcher's rules (ActionStatus, AckThrottler, PeriodThrottler, ActionWrapper, WatchStatus):

- Each action has an ack state: `awaits_successful_execution` until it runs successfully, then
  `ackable`; a user's ack turns `ackable` into `acked` (acking in any other state changes
  nothing). When the watch's condition is not met, every action goes back to
  `awaits_successful_execution`; so does a single action whose own condition is not met.
- Before an action runs, the period throttle is asked first: if the time since the action's last
  *successful* run is at most the throttle period (the action's, else the watch's, else 5s),
  the action is `throttled`. Then the ack throttle: an `acked` action is not run (its result
  status is `acknowledged`). A throttled or acknowledged action keeps its ack state.
- A run records `last_execution`; a successful one also `last_successful_execution` and moves
  `awaits_successful_execution` to `ackable`. A throttle records `last_throttle`.
- A deactivated watch is not triggered at all.

The engine's flow per triggered run:

    if not watch.active: skip
    met = evaluate(watch condition)
    watch = on_watch_checked(watch, met, now)          # resets acks when not met
    if met: for each action:
        decision = decide(action_state, True, now, period)
        if decision.execute:
            if the action's own condition is false: state = on_condition_false(state, now)
            else: run it; state = after_execution(state, now, succeeded)
        elif decision.status == THROTTLED: state = after_throttle(state, now, decision.reason)

Everything here is a pure function over frozen dataclasses; `to_dict`/`from_dict` give the
JSON that Watcher stores as a watch's `status`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

from pipeline.alerting.engine.java.dates import as_utc, format_date
from pipeline.alerting.engine.java.durations import DurationError, parse_duration, time_value_text
from pipeline.alerting.status.alerts import OpenAlert

AWAITS_SUCCESSFUL_EXECUTION: Final = "awaits_successful_execution"
ACKABLE: Final = "ackable"
ACKED: Final = "acked"
ACK_STATES: Final = (AWAITS_SUCCESSFUL_EXECUTION, ACKABLE, ACKED)

# Decision statuses; throttled and acknowledged are Watcher's action result statuses.
EXECUTE: Final = "execute"
THROTTLED: Final = "throttled"
ACKNOWLEDGED: Final = "acknowledged"
EXECUTION_NOT_NEEDED: Final = "execution_not_needed"

DEFAULT_THROTTLE_PERIOD: Final = timedelta(seconds=5)


class StateError(ValueError):
    """Stored status data that cannot be read back."""


def _parse(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise StateError(f"{where}: expected a timestamp string, got {value!r}")
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise StateError(f"{where}: {value!r} is not an ISO 8601 timestamp") from None


@dataclass(frozen=True)
class AckStatus:
    """An action's ack state and when it last changed."""

    state: str
    timestamp: datetime


@dataclass(frozen=True)
class Execution:
    """One run of an action: when, whether it succeeded and, if not, why."""

    timestamp: datetime
    successful: bool
    reason: str | None = None


@dataclass(frozen=True)
class Throttle:
    """The last time an action was throttled, and why."""

    timestamp: datetime
    reason: str


@dataclass(frozen=True)
class ActionState:
    """What Watcher remembers about one action of a watch."""

    ack: AckStatus
    last_execution: Execution | None = None
    last_successful_execution: Execution | None = None
    last_throttle: Throttle | None = None
    # Keyed actions only (`alert_key`, see firing.py): the keys firing now.
    open_alerts: Mapping[str, OpenAlert] = field(default_factory=dict)

    @classmethod
    def new(cls, now: datetime) -> ActionState:
        """The state of an action that has never run."""
        return cls(AckStatus(AWAITS_SUCCESSFUL_EXECUTION, as_utc(now)))

    def to_dict(self) -> dict[str, Any]:
        """Watcher's JSON for an action status (`status.actions.<id>`)."""
        data: dict[str, Any] = {
            "ack": {"timestamp": format_date(self.ack.timestamp), "state": self.ack.state}
        }
        for name, execution in (
            ("last_execution", self.last_execution),
            ("last_successful_execution", self.last_successful_execution),
        ):
            if execution is not None:
                entry: dict[str, Any] = {
                    "timestamp": format_date(execution.timestamp),
                    "successful": execution.successful,
                }
                if execution.reason is not None:
                    entry["reason"] = execution.reason
                data[name] = entry
        if self.last_throttle is not None:
            data["last_throttle"] = {
                "timestamp": format_date(self.last_throttle.timestamp),
                "reason": self.last_throttle.reason,
            }
        if self.open_alerts:
            data["open_alerts"] = [alert.to_dict() for alert in self.open_alerts.values()]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionState:
        """Read an action status written by `to_dict` (or by Watcher); raises `StateError`."""
        ack = data.get("ack")
        if not isinstance(ack, Mapping):
            raise StateError("action status: missing ack")
        state = str(ack.get("state", "")).lower()
        if state not in ACK_STATES:
            raise StateError(f"action status: unknown ack state {ack.get('state')!r}")
        executions: list[Execution | None] = []
        for name in ("last_execution", "last_successful_execution"):
            entry = data.get(name)
            if entry is None:
                executions.append(None)
                continue
            if not isinstance(entry, Mapping) or not isinstance(entry.get("successful"), bool):
                raise StateError(f"action status: {name} needs timestamp and successful")
            reason = entry.get("reason")
            executions.append(
                Execution(
                    _parse(entry.get("timestamp"), name),
                    entry["successful"],
                    None if reason is None else str(reason),
                )
            )
        throttle = data.get("last_throttle")
        last_throttle = None
        if throttle is not None:
            if not isinstance(throttle, Mapping):
                raise StateError("action status: last_throttle must be an object")
            last_throttle = Throttle(
                _parse(throttle.get("timestamp"), "last_throttle"),
                str(throttle.get("reason", "")),
            )
        try:
            open_alerts = {
                alert.key: alert
                for alert in map(OpenAlert.from_dict, data.get("open_alerts") or [])
            }
        except (KeyError, TypeError, ValueError) as err:
            raise StateError(f"action status: bad open_alerts: {err}") from err
        return cls(
            AckStatus(state, _parse(ack.get("timestamp"), "ack")),
            executions[0],
            executions[1],
            last_throttle,
            open_alerts,
        )


@dataclass(frozen=True)
class Decision:
    """Whether to run an action now; `status` is execute, throttled, acknowledged or
    execution_not_needed, and `reason` says why in words."""

    execute: bool
    status: str
    reason: str


def decide(
    state: ActionState,
    condition_met: bool,
    now: datetime,
    throttle_period: timedelta,
    action_id: str = "",
) -> Decision:
    """Whether an action runs, given the watch condition's outcome at `now`.

    Order as in Watcher: a watch condition that is not met runs nothing; then the period
    throttle (time since the last *successful* run at most `throttle_period`); then the ack
    throttle (an acked action is not run). The reasons are Watcher's texts (PeriodThrottler,
    AckThrottler).
    """
    if not condition_met:
        return Decision(False, EXECUTION_NOT_NEEDED, "the watch condition is not met")
    last = state.last_successful_execution
    if last is not None:
        elapsed = as_utc(now) - as_utc(last.timestamp)
        if elapsed <= throttle_period:
            return Decision(
                False,
                THROTTLED,
                f"throttling interval is set to [{time_value_text(throttle_period)}] but time "
                f"elapsed since last execution is [{time_value_text(elapsed)}]",
            )
    if state.ack.state == ACKED:
        return Decision(
            False,
            ACKNOWLEDGED,
            f"action [{action_id}] was acked at [{format_date(state.ack.timestamp)}]",
        )
    return Decision(True, EXECUTE, "the condition is met and the action is not throttled")


def after_execution(
    state: ActionState, now: datetime, succeeded: bool, reason: str | None = None
) -> ActionState:
    """Record a run of the action at `now`; `reason` explains a failure."""
    moment = as_utc(now)
    if not succeeded:
        return replace(state, last_execution=Execution(moment, False, reason))
    execution = Execution(moment, True)
    ack = state.ack
    if ack.state == AWAITS_SUCCESSFUL_EXECUTION:
        ack = AckStatus(ACKABLE, moment)
    return replace(state, ack=ack, last_execution=execution, last_successful_execution=execution)


def after_throttle(state: ActionState, now: datetime, reason: str) -> ActionState:
    """Record that the period throttle held the action back at `now`."""
    return replace(state, last_throttle=Throttle(as_utc(now), reason))


def ack(state: ActionState, now: datetime) -> ActionState:
    """A user acks the action: only an `ackable` action becomes `acked`; others are unchanged."""
    if state.ack.state != ACKABLE:
        return state
    return replace(state, ack=AckStatus(ACKED, as_utc(now)))


def on_condition_false(state: ActionState, now: datetime) -> ActionState:
    """The (watch's or the action's own) condition was not met: back to awaiting a run."""
    if state.ack.state == AWAITS_SUCCESSFUL_EXECUTION:
        return state
    return replace(state, ack=AckStatus(AWAITS_SUCCESSFUL_EXECUTION, as_utc(now)))


def _period_of(spec: Mapping[str, Any], where: str) -> timedelta | None:
    if spec.get("throttle_period_in_millis") is not None:
        millis = spec["throttle_period_in_millis"]
        if isinstance(millis, bool) or not isinstance(millis, int) or millis < 0:
            raise DurationError(f"{where}: throttle_period_in_millis must be a whole number >= 0")
        return timedelta(milliseconds=millis)
    if spec.get("throttle_period") is not None:
        return parse_duration(spec["throttle_period"])
    return None


def throttle_period(
    action: Mapping[str, Any],
    watch: Mapping[str, Any],
    default: timedelta = DEFAULT_THROTTLE_PERIOD,
) -> timedelta:
    """The throttle period of an action: its own, else the watch's, else `default` (5s)."""
    stated = explicit_throttle_period(action, watch)
    return stated if stated is not None else default


def explicit_throttle_period(
    action: Mapping[str, Any], watch: Mapping[str, Any]
) -> timedelta | None:
    """The period a rule states (the action's, else the watch's), without Watcher's 5s default:
    a keyed alert (firing.py) reminds only when the rule asks for it."""
    own = _period_of(action, "action")
    return own if own is not None else _period_of(watch, "watch")


@dataclass(frozen=True)
class WatchState:
    """A watch's status: active or not (since when), its checks and its actions' states."""

    active: bool
    state_timestamp: datetime
    actions: Mapping[str, ActionState] = field(default_factory=dict)
    last_checked: datetime | None = None
    last_met_condition: datetime | None = None
    # The watch-level state of the last execution (WatchRecord.getState), once one ran.
    execution_state: str | None = None
    # The version of the stored state document this status was read from; -1: not stored.
    version: int = -1

    @classmethod
    def new(cls, action_ids: list[str], now: datetime, active: bool = True) -> WatchState:
        """The status of a newly stored watch."""
        return cls(active, as_utc(now), {name: ActionState.new(now) for name in action_ids})

    def to_dict(self) -> dict[str, Any]:
        """Watcher's JSON for a watch status (WatchStatus.toXContent, in its order)."""
        data: dict[str, Any] = {
            "state": {"active": self.active, "timestamp": format_date(self.state_timestamp)},
        }
        if self.last_checked is not None:
            data["last_checked"] = format_date(self.last_checked)
        if self.last_met_condition is not None:
            data["last_met_condition"] = format_date(self.last_met_condition)
        data["actions"] = {name: state.to_dict() for name, state in self.actions.items()}
        if self.execution_state is not None:
            data["execution_state"] = self.execution_state
        data["version"] = self.version
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchState:
        """Read a watch status written by `to_dict`; raises `StateError`."""
        state = data.get("state")
        if not isinstance(state, Mapping) or not isinstance(state.get("active"), bool):
            raise StateError("watch status: state.active is missing")
        actions = data.get("actions") or {}
        if not isinstance(actions, Mapping):
            raise StateError("watch status: actions must be an object")
        checked, met = data.get("last_checked"), data.get("last_met_condition")
        return cls(
            state["active"],
            _parse(state.get("timestamp"), "state"),
            {str(name): ActionState.from_dict(value) for name, value in actions.items()},
            None if checked is None else _parse(checked, "last_checked"),
            None if met is None else _parse(met, "last_met_condition"),
            None if data.get("execution_state") is None else str(data["execution_state"]),
        )


def should_run(watch: WatchState) -> bool:
    """Whether a triggered watch runs at all: deactivated watches do not."""
    return watch.active


def activate(watch: WatchState, now: datetime) -> WatchState:
    """Activate the watch; as Watcher's activate API, the state's timestamp becomes `now`
    even when it was active already."""
    return replace(watch, active=True, state_timestamp=as_utc(now))


def deactivate(watch: WatchState, now: datetime) -> WatchState:
    """Deactivate the watch; the state's timestamp becomes `now` (see `activate`)."""
    return replace(watch, active=False, state_timestamp=as_utc(now))


def on_watch_checked(watch: WatchState, condition_met: bool, now: datetime) -> WatchState:
    """Record a condition check; when not met, every action goes back to awaiting a run."""
    moment = as_utc(now)
    if condition_met:
        return replace(watch, last_checked=moment, last_met_condition=moment)
    actions = {name: on_condition_false(state, moment) for name, state in watch.actions.items()}
    return replace(watch, last_checked=moment, actions=actions)


def ack_actions(
    watch: WatchState, now: datetime, action_ids: list[str] | None = None
) -> WatchState:
    """Ack some actions (default: all), as `POST _watcher/watch/<id>/_ack[/<actions>]` does."""
    chosen = set(watch.actions) if action_ids is None else set(action_ids)
    unknown = chosen - set(watch.actions)
    if unknown:
        raise StateError(f"unknown actions: {', '.join(sorted(unknown))}")
    actions = {
        name: ack(state, now) if name in chosen else state for name, state in watch.actions.items()
    }
    return replace(watch, actions=actions)
