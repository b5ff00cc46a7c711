"""A robot's telemetry, folded into MQTT robot states (contract v1, docs/contract.md), and its pause latch.

Pure: the robot bridge (``robot_nodes/telemetry_bridge.py``) converts ROS messages to the plain values
taken here, and sends what these objects return. Nothing here knows about rclpy or MQTT.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from services.errors import DomainError
from services.geo import local_to_latlon

CONTRACT_VERSION = 1
MAX_FAULTS = 32
MAX_FAULT_CHARS = 128
MAX_MODE_CHARS = 32
MAX_SPEED_MS = 20.0
MAX_NEAREST_HUMAN_M = 1000.0
MAX_PAYLOAD_KG = 2000.0
MAX_POSITION_M = 1_000_000.0
PAUSED_MODE = "paused"
NEAREST_OTHER_HUMAN_MAX_AGE_S = 1.0
"""A follower's nearest other person older than this (s) is left out of the state. Its safety monitor
republishes it with every person detection (10 Hz in the embedded simulator) while its leader is tracked and
stops within ``sensor_timeout_s`` (0.5 s) of losing the leader; 1 s rides out a few lost best-effort messages,
yet a lost leader's last value is not sent for more than about a second. Absent, the gateway counts every
person (docs/contract.md, "Robot state")."""


# diagnostic_msgs/DiagnosticStatus levels (ERROR = 2, STALE = 3): warnings are not faults.
DIAGNOSTIC_ERROR = 2


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Heading (rad, in ±π) about the z axis of a unit quaternion (ZYX Euler convention, REP 103)."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def faults_from_diagnostics(statuses: Iterable[tuple[int, str, str]]) -> list[str]:
    """``"name: message"`` for each diagnostic status at ERROR or STALE, as the contract's ``faults``."""
    return [f"{name}: {message}" if message else name for level, name, message in statuses
            if level >= DIAGNOSTIC_ERROR]  # fmt: skip


def rfc3339_utc(now: datetime) -> str:
    """``2026-11-26T08:15:02.500Z``: RFC 3339, UTC, millisecond precision. Naive times are refused."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware time")
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


@dataclass(frozen=True, slots=True)
class Odometry:
    x_m: float
    y_m: float
    yaw_rad: float
    speed_ms: float


class StateBuilder:
    """Holds the latest value of each input; ``build`` turns them into one contract v1 robot state.

    Values outside the contract's ranges are clamped or left out rather than sent to be refused as a
    whole by the gateway: one NaN from a driver must not cost the e-stop flag next to it.
    """

    def __init__(self, robot_id: str, kind: str, *, mode: str = "auto", first_seq: int = 0,
                 origin_deg: tuple[float, float] | None = None,
                 nearest_other_max_age_s: float = NEAREST_OTHER_HUMAN_MAX_AGE_S) -> None:  # fmt: skip
        """``origin_deg``: (lat, lon) of the map origin; with it, the pose also carries ``lat``/``lon``.
        ``nearest_other_max_age_s``: how long a nearest other person stays in the states without a new value."""
        if origin_deg is not None and not all(math.isfinite(v) for v in origin_deg):
            origin_deg = None  # a NaN origin (the bridge's default) means: the map is not georeferenced
        self.origin_deg = origin_deg
        self.robot_id = robot_id
        self.kind = kind
        self.mode = mode[:MAX_MODE_CHARS]
        self._next_seq = first_seq
        self._odometry: Odometry | None = None
        self._battery_pct: float | None = None
        self._estop = False
        self._protective_stop = False
        self._nearest_human_m: float | None = None
        self.nearest_other_max_age_s = nearest_other_max_age_s
        self._nearest_other: tuple[float | None, float] | None = None  # (distance m or None, received at s)
        self._payload_kg: float | None = None
        self._faults: list[str] = []

    def set_odometry(self, x_m: float, y_m: float, yaw_rad: float, speed_ms: float) -> None:
        if not all(math.isfinite(v) for v in (x_m, y_m, yaw_rad, speed_ms)):
            return  # a pose with a NaN is no pose: keep the previous one
        self._odometry = Odometry(
            _clamp(x_m, -MAX_POSITION_M, MAX_POSITION_M),
            _clamp(y_m, -MAX_POSITION_M, MAX_POSITION_M),
            math.remainder(yaw_rad, math.tau),
            _clamp(speed_ms, -MAX_SPEED_MS, MAX_SPEED_MS),
        )

    def set_battery_pct(self, pct: float | None) -> None:
        """``None`` or NaN: unknown (sensor_msgs/BatteryState reports an unmeasured charge as NaN)."""
        value = _finite(pct)
        self._battery_pct = None if value is None else _clamp(value, 0.0, 100.0)

    def set_estop(self, pressed: bool) -> None:
        self._estop = pressed

    def set_protective_stop(self, active: bool) -> None:
        self._protective_stop = active

    def set_nearest_human_m(self, distance_m: float | None) -> None:
        """``None``, NaN, ±inf or negative: nobody detected (``null`` in the contract)."""
        value = _finite(distance_m)
        self._nearest_human_m = None if value is None or value < 0 else min(value, MAX_NEAREST_HUMAN_M)

    def set_nearest_other_human_m(self, distance_m: float | None, at_s: float) -> None:
        """A follower tracking its leader: the nearest other person, received at ``at_s`` (on the clock that
        ``build`` is given as ``clock_s``). ``None``, NaN, ±inf or negative: nobody else (``null``)."""
        value = _finite(distance_m)
        self._nearest_other = (None if value is None or value < 0 else min(value, MAX_NEAREST_HUMAN_M), at_s)

    def set_payload_kg(self, payload_kg: float | None) -> None:
        value = _finite(payload_kg)
        self._payload_kg = None if value is None else _clamp(value, 0.0, MAX_PAYLOAD_KG)

    def set_faults(self, faults: Iterable[str]) -> None:
        self._faults = [f[:MAX_FAULT_CHARS] for f in faults][:MAX_FAULTS]

    def build(self, now: datetime, *, paused: bool = False, clock_s: float | None = None) -> dict[str, Any]:
        """The next robot state at ``now``; ``seq`` increases by one per call.

        ``nearest_other_human_m`` is there only while the last value is at most ``nearest_other_max_age_s`` old
        at ``clock_s`` (default: ``now`` as a POSIX time); otherwise the key is absent, not ``null``: ``null``
        says "nobody but the leader", absent says "this robot does not tell its leader apart (now)"."""
        seq = self._next_seq
        self._next_seq += 1
        state: dict[str, Any] = {
            "v": CONTRACT_VERSION,
            "robot_id": self.robot_id,
            "seq": seq,
            "ts": rfc3339_utc(now),
            "kind": self.kind,
        }
        if self._odometry is not None:
            odo = self._odometry
            state["pose"] = {"x_m": odo.x_m, "y_m": odo.y_m, "yaw_rad": odo.yaw_rad}
            if self.origin_deg is not None:
                lat_deg, lon_deg = local_to_latlon(*self.origin_deg, odo.x_m, odo.y_m)
                lat, lon = float(lat_deg), float(lon_deg)
                state["pose"].update(lat=_clamp(lat, -90.0, 90.0), lon=math.remainder(lon, 360.0))
            state["speed_ms"] = odo.speed_ms
        if self._battery_pct is not None:
            state["battery_pct"] = self._battery_pct
        state.update(
            mode=PAUSED_MODE if paused else self.mode,
            estop=self._estop,
            protective_stop=self._protective_stop,
            nearest_human_m=self._nearest_human_m,
            payload_kg=self._payload_kg,
            faults=list(self._faults),
        )
        if self._nearest_other is not None:
            distance_m, at_s = self._nearest_other
            age_s = (now.timestamp() if clock_s is None else clock_s) - at_s
            if age_s <= self.nearest_other_max_age_s:
                state["nearest_other_human_m"] = distance_m
        return state


T = TypeVar("T")


class ReplayBuffer(Generic[T]):
    """A bounded FIFO of states waiting for the MQTT link; ``drain`` yields them oldest first.

    When full, the OLDEST state is dropped (and counted in ``dropped``): after a long outage the
    robot's current position, e-stop and nearest human matter to whoever watches it now, while the
    oldest states are history the gateway can live without. Dropping the newest instead would freeze
    the picture at the start of the outage. The bound keeps a robot's memory use fixed however long
    the link stays down.
    """

    def __init__(self, max_items: int) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        self.max_items = max_items
        self._items: deque[T] = deque()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def append(self, item: T) -> None:
        if len(self._items) >= self.max_items:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)

    def drain(self) -> Iterator[T]:
        """Yield and remove the items oldest first; stopping early leaves the rest, in order."""
        while self._items:
            yield self._items.popleft()


class PauseCommand(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"


class InvalidCommand(DomainError):
    """A payload on ``vigie/v1/robots/{robot_id}/command`` is not a contract command."""


@dataclass(frozen=True, slots=True)
class Command:
    cmd: PauseCommand
    reason: str
    alert_id: str | None


def parse_command(payload: bytes) -> Command:
    """Decode ``{"cmd": "pause"|"resume", "reason", "alert_id"}`` (docs/contract.md, command topic)."""
    try:
        raw = json.loads(payload)
    except ValueError as exc:
        raise InvalidCommand(f"not JSON: {payload[:64]!r}") from exc
    if not isinstance(raw, dict):
        raise InvalidCommand("a command is a JSON object")
    try:
        cmd = PauseCommand(str(raw.get("cmd")))
    except ValueError as exc:
        raise InvalidCommand(f"unknown cmd {raw.get('cmd')!r}") from exc
    reason = raw.get("reason", "")
    alert_id = raw.get("alert_id")
    if not isinstance(reason, str) or not (alert_id is None or isinstance(alert_id, str | int)):
        raise InvalidCommand("reason must be a string and alert_id a string, an integer or null")
    return Command(cmd, reason, None if alert_id is None else str(alert_id))


class PauseLatch:
    """Paused while at least one pause is outstanding; a resume releases only the pause of its alert.

    Two hazards can pause the same robot (a worker too close, then a fall nearby). Resuming on one
    alert's resolution must not release the pause another open alert still needs, and a late or
    replayed resume for an old alert must never unpause a robot paused for a new one. So each pause is
    keyed by its ``alert_id`` (``None`` for a manual pause, released only by a manual resume), and the
    robot moves again only when every key has been resumed.
    """

    def __init__(self) -> None:
        self._pauses: dict[str | None, str] = {}

    @property
    def paused(self) -> bool:
        return bool(self._pauses)

    @property
    def reasons(self) -> list[str]:
        return list(self._pauses.values())

    def apply(self, command: Command) -> bool:
        """Apply ``command``; return True if the paused state changed."""
        was_paused = self.paused
        if command.cmd is PauseCommand.PAUSE:
            self._pauses[command.alert_id] = command.reason
        else:
            self._pauses.pop(command.alert_id, None)
        return self.paused != was_paused
