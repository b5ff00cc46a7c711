"""Speed and separation monitoring for assistive robots (ISO/TS 15066:2016 §5.5.4), and the mower blade guard.

The protective separation distance is

    S_p(v_r) = v_h·(T_r + T_s) + v_r·T_r + S_s + C + Z_d + Z_r

with v_h the human speed (1.6 m/s, ISO 13855), T_r the robot's reaction time, T_s its stopping time, S_s its
stopping distance, C the intrusion distance and Z_d / Z_r the position uncertainties of the human (sensor) and
of the robot.

Assumption (conservative): T_s is the worst-case stopping time measured at the maximum speed (ISO 10218-1
Annex B) and is used at every speed, and the robot brakes at constant deceleration, so S_s = v_r·T_s/2. S_p is
then affine in v_r: S_p(v_r) = S_p(0) + v_r·(T_r + T_s/2), and the allowed speed has a closed form.

A protective stop fires when even a stopped robot is too close (distance ≤ S_p(0)); between S_p(0) and
S_p(v_requested) the robot slows so that S_p(v) ≤ distance always holds.

A follower also reports the nearest person other than the one it follows (``nearest_other_m``), for the
statistics only: its speed is decided on every person, leader included.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

HUMAN_SPEED_MS = 1.6
"""Walking speed of a human approaching the robot (ISO 13855 §6.3, ISO/TS 15066 §5.5.4.2.2)."""


@dataclass(frozen=True, slots=True)
class SeparationParams:
    reaction_time_s: float = 0.1
    stopping_time_s: float = 0.3
    intrusion_distance_m: float = 0.2
    position_uncertainty_human_m: float = 0.1
    position_uncertainty_robot_m: float = 0.05
    human_speed_ms: float = HUMAN_SPEED_MS

    def __post_init__(self) -> None:
        for name in ("reaction_time_s", "stopping_time_s", "intrusion_distance_m", "position_uncertainty_human_m",
                     "position_uncertainty_robot_m", "human_speed_ms"):  # fmt: skip
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
        if self.reaction_time_s + self.stopping_time_s <= 0:
            raise ValueError("reaction_time_s + stopping_time_s must be > 0")


def _stationary_distance_m(params: SeparationParams) -> float:
    """S_p(0): what a stopped robot still needs, since the human keeps walking during T_r + T_s."""
    return (
        params.human_speed_ms * (params.reaction_time_s + params.stopping_time_s)
        + params.intrusion_distance_m
        + params.position_uncertainty_human_m
        + params.position_uncertainty_robot_m
    )


def _distance_per_speed_s(params: SeparationParams) -> float:
    """dS_p/dv_r = T_r + T_s/2 (reaction travel plus constant-deceleration braking distance)."""
    return params.reaction_time_s + params.stopping_time_s / 2


def protective_distance_m(v_robot_ms: float, params: SeparationParams) -> float:
    """Protective separation distance S_p for a robot moving at `v_robot_ms` (ISO/TS 15066 §5.5.4, eq. 1)."""
    v_ms = abs(v_robot_ms)
    stopping_distance_m = v_ms * params.stopping_time_s / 2
    return _stationary_distance_m(params) + v_ms * params.reaction_time_s + stopping_distance_m


def allowed_speed_ms(distance_m: float, params: SeparationParams, v_max_ms: float) -> float:
    """Highest robot speed v in [0, v_max_ms] with S_p(v) <= `distance_m`; 0 when a stopped robot is too close."""
    if math.isnan(distance_m):
        return 0.0
    margin_m = distance_m - _stationary_distance_m(params)
    if margin_m <= 0:
        return 0.0
    return min(v_max_ms, margin_m / _distance_per_speed_s(params))


class SafetyState(StrEnum):
    NORMAL = "NORMAL"
    SLOW = "SLOW"
    PROTECTIVE_STOP = "PROTECTIVE_STOP"
    ESTOP = "ESTOP"


@dataclass(frozen=True, slots=True)
class Decision:
    scale: float  # 0..1, applied to the requested velocity
    state: SafetyState
    reason: str


@dataclass(slots=True)
class SpeedSupervisor:
    """Speed and separation supervisor: scales the requested speed, stops, resumes with hysteresis.

    Pure and clock-free: the caller passes `now_s`. A protective stop is left only after the distance has
    stayed above S_p(0) + `resume_margin_m` for `resume_hold_s` (no stop/creep flicker near the threshold).
    An e-stop latches until `reset_estop()` is called with the button released.
    """

    params: SeparationParams
    v_max_ms: float
    resume_margin_m: float = 0.3
    resume_hold_s: float = 1.0
    _stopped: bool = field(default=False, init=False)
    _clear_since_s: float | None = field(default=None, init=False)
    _estop_latched: bool = field(default=False, init=False)
    _estop_pressed: bool = field(default=False, init=False)

    @property
    def estop_latched(self) -> bool:
        return self._estop_latched

    def estop(self, pressed: bool) -> None:
        """Record the e-stop button; pressing latches, releasing alone does not unlatch."""
        self._estop_pressed = pressed
        if pressed:
            self._estop_latched = True

    def reset_estop(self) -> bool:
        """Unlatch the e-stop if the button is released; the robot then waits out a protective stop."""
        if self._estop_pressed:
            return False
        if self._estop_latched:
            self._estop_latched = False
            self._enter_stop()
        return True

    def update(
        self, distance_m: float | None, requested_speed_ms: float, now_s: float, *, sensors_ok: bool = True
    ) -> Decision:
        """Decide the speed scale for the nearest human at `distance_m` (None: nobody detected)."""
        if self._estop_latched:
            return Decision(0.0, SafetyState.ESTOP, "e-stop latched")
        if not sensors_ok:
            self._enter_stop()
            return Decision(0.0, SafetyState.PROTECTIVE_STOP, "sensors silent")
        distance = math.inf if distance_m is None else distance_m
        stop_at_m = protective_distance_m(0.0, self.params)
        if distance <= stop_at_m:
            self._enter_stop()
            return Decision(0.0, SafetyState.PROTECTIVE_STOP, f"human at {distance:.2f} m <= {stop_at_m:.2f} m")
        if self._stopped:
            if distance <= stop_at_m + self.resume_margin_m:
                self._clear_since_s = None
                return Decision(0.0, SafetyState.PROTECTIVE_STOP, "waiting for clearance")
            if self._clear_since_s is None:
                self._clear_since_s = now_s
            if now_s - self._clear_since_s < self.resume_hold_s:
                return Decision(0.0, SafetyState.PROTECTIVE_STOP, "holding before resume")
            self._stopped = False
            self._clear_since_s = None
        requested_ms = abs(requested_speed_ms)
        if requested_ms == 0:
            return Decision(1.0, SafetyState.NORMAL, "no motion requested")
        allowed_ms = allowed_speed_ms(distance, self.params, self.v_max_ms)
        scale = min(requested_ms, allowed_ms) / requested_ms
        if allowed_ms < min(requested_ms, self.v_max_ms):
            return Decision(scale, SafetyState.SLOW, f"human at {distance:.2f} m")
        return Decision(scale, SafetyState.NORMAL, "clear")

    def _enter_stop(self) -> None:
        self._stopped = True
        self._clear_since_s = None


LEADER_ASSOCIATION_RADIUS_M = 0.6
"""Detections this close (m) to a follower's tracked leader are taken to be the leader.

The tracked point is the centre of a person, but a body and its legs extend around it: shoulder breadth is up to
about 0.5 m (95th percentile of adult men, ISO 7250-1 / DIN 33402-2 tables), so a torso reaches some 0.25 m from
its centre, and a 2-D lidar at shin height sees two legs up to about half a stride (~0.35 m) from it while walking;
add the person detector's position uncertainty Z_d (0.1-0.15 m in the profiles) and 0.6 m covers the leader's own
returns. The price: a second person within 0.6 m of the leader (shoulder to shoulder) is merged with them. This
only decides which person the weak-signal statistics call "the leader"; the speed decision counts everyone."""


def nearest_other_m(
    people_xy: Iterable[tuple[float, float]],
    leader_xy: tuple[float, float],
    *,
    scan_xy: Iterable[tuple[float, float]] = (),
    association_radius_m: float = LEADER_ASSOCIATION_RADIUS_M,
) -> float | None:
    """Distance (m) from the robot to the nearest detection that is not its leader; None when there is none.

    Every point is in the robot's frame (origin at the robot, metres), the leader's too: the people from the
    person detector and, optionally, laser returns treated as possible humans. A point within
    ``association_radius_m`` of the leader (boundary included) is the leader's body and is left out; non-finite
    points are ignored. For statistics only: a follower still slows and stops for its leader (ISO/TS 15066
    §5.5.4 protects every person), but routine following is not a person in its way.
    """
    if not math.isfinite(association_radius_m) or association_radius_m < 0:
        raise ValueError(f"association_radius_m must be finite and >= 0, got {association_radius_m!r}")
    lx, ly = leader_xy
    if not (math.isfinite(lx) and math.isfinite(ly)):
        raise ValueError(f"leader_xy must be finite, got {leader_xy!r}")
    nearest_m: float | None = None
    for x, y in itertools.chain(people_xy, scan_xy):
        if not (math.isfinite(x) and math.isfinite(y)) or math.hypot(x - lx, y - ly) <= association_radius_m:
            continue
        distance_m = math.hypot(x, y)
        nearest_m = distance_m if nearest_m is None else min(nearest_m, distance_m)
    return nearest_m


GRAVITY_MS2 = 9.80665


def tilt_deg(acc_ms2: tuple[float, float, float]) -> float:
    """Angle (deg) between the measured specific force and the robot's z axis; 0 when upright at rest.

    An accelerometer at rest reads the reaction to gravity, +g along z when upright (ROS REP 145). NaN when
    the vector has no direction (free fall) or is not finite: the caller must treat that as unsafe.
    """
    x, y, z = acc_ms2
    norm = math.sqrt(x * x + y * y + z * z)
    if not math.isfinite(norm) or norm == 0:
        return math.nan
    return math.degrees(math.acos(max(-1.0, min(1.0, z / norm))))


@dataclass(frozen=True, slots=True)
class BladeGuardParams:
    """Lift and tilt blade stop of a robotic mower.

    Practice of EN ISO 5395-3 and EN 50636-2-107 (robotic mowers): the blade stops when the mower is lifted
    or tilted. The thresholds here are typical values, not figures quoted from those standards.
    A lift is a vertical specific force below `lift_accel_ms2` (well below g) for more than `lift_min_s`.
    The stop is left once tilt stays below `tilt_stop_deg - tilt_clear_margin_deg`, and no lift is seen,
    for `clear_hold_s`.
    """

    tilt_stop_deg: float = 25.0
    tilt_clear_margin_deg: float = 5.0
    lift_accel_ms2: float = 0.6 * GRAVITY_MS2
    lift_min_s: float = 0.2
    clear_hold_s: float = 1.0
    stop_on_tilt: bool = True
    stop_on_lift: bool = True

    def __post_init__(self) -> None:
        for name in ("tilt_stop_deg", "tilt_clear_margin_deg", "lift_accel_ms2", "lift_min_s", "clear_hold_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
        if not 0 < self.tilt_stop_deg <= 180 or self.tilt_clear_margin_deg >= self.tilt_stop_deg:
            raise ValueError("need 0 < tilt_stop_deg <= 180 and tilt_clear_margin_deg < tilt_stop_deg")


class BladeDecision(NamedTuple):
    blade_allowed: bool
    stop: bool  # protective stop of the drive as well
    reason: str


@dataclass(slots=True)
class BladeGuard:
    """Stops blade and drive on tilt or lift, and allows them again after a held clearance.

    Pure and clock-free: the caller passes `now_s`. Starts stopped (no IMU sample yet: fail safe), so the
    first upright samples also wait out `clear_hold_s`.
    """

    params: BladeGuardParams = field(default_factory=BladeGuardParams)
    _stopped: bool = field(default=True, init=False)
    _reason: str = field(default="no IMU sample yet", init=False)
    _low_since_s: float | None = field(default=None, init=False)
    _clear_since_s: float | None = field(default=None, init=False)

    def update(self, acc_ms2: tuple[float, float, float], now_s: float) -> BladeDecision:
        """Decide from one accelerometer sample (specific force in the robot frame, m/s²)."""
        p = self.params
        tilt = tilt_deg(acc_ms2)
        vertical_ms2 = acc_ms2[2]
        if math.isnan(tilt):
            return self._stop("IMU sample without direction (free fall or invalid)")
        if vertical_ms2 < p.lift_accel_ms2:
            self._low_since_s = now_s if self._low_since_s is None else self._low_since_s
        else:
            self._low_since_s = None
        lifted = self._low_since_s is not None and now_s - self._low_since_s > p.lift_min_s
        if p.stop_on_tilt and tilt >= p.tilt_stop_deg:
            return self._stop(f"tilt {tilt:.0f} deg >= {p.tilt_stop_deg:.0f} deg")
        if p.stop_on_lift and lifted:
            return self._stop(f"lifted: vertical {vertical_ms2:.1f} m/s2 for > {p.lift_min_s:.1f} s")
        if self._stopped:
            clear = not (p.stop_on_tilt and tilt >= p.tilt_stop_deg - p.tilt_clear_margin_deg)
            clear = clear and not (p.stop_on_lift and self._low_since_s is not None)
            if not clear:
                self._clear_since_s = None
                return BladeDecision(False, True, f"waiting for clearance ({self._reason})")
            if self._clear_since_s is None:
                self._clear_since_s = now_s
            if now_s - self._clear_since_s < p.clear_hold_s:
                return BladeDecision(False, True, f"holding before resume ({self._reason})")
            self._stopped = False
            self._clear_since_s = None
        return BladeDecision(True, False, "upright")

    def _stop(self, reason: str) -> BladeDecision:
        self._stopped, self._reason, self._clear_since_s = True, reason, None
        return BladeDecision(False, True, reason)
