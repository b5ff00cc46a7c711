"""Robots: emergency stop, protective stop with a person inside the separation distance, faults, battery."""

from __future__ import annotations

from services.alerts import Severity
from services.detection.config import RuleConfig
from services.detection.episodes import Episodes, Source
from services.detection.outcomes import Outcome, RuleId
from services.model import RobotState


def on_state(episodes: Episodes, src: Source, state: RobotState, cfg: RuleConfig) -> list[Outcome]:
    """Every robot rule on one state; a field the bridge did not report (None) leaves its rule as it was."""
    return [
        *_estop(episodes, src, state),
        *_protective_stop(episodes, src, state, cfg),
        *_fault(episodes, src, state),
        *_battery(episodes, src, state, cfg),
    ]


def _estop(episodes: Episodes, src: Source, state: RobotState) -> list[Outcome]:
    if state.estop is None:
        return []
    return episodes.hysteresis(
        src, RuleId.ROBOT_ESTOP, raise_if=state.estop, clear_if=not state.estop, severity=Severity.CRITICAL,
        message=f"Emergency stop on {state.kind} {state.robot_id}", clear_reason="emergency stop released",
        details={"kind": state.kind, "mode": state.mode},
    )  # fmt: skip


def _protective_stop(episodes: Episodes, src: Source, state: RobotState, cfg: RuleConfig) -> list[Outcome]:
    """A protective stop *because a person is inside the separation distance*: a near miss worth a look.

    A protective stop with nobody near (an obstacle, a fault) is not this rule's business.
    """
    if state.protective_stop is None:
        return []
    separation_m = cfg.separation_m(state.kind)
    distance_m = state.nearest_human_m
    inside = state.protective_stop and distance_m is not None and distance_m < separation_m
    away = (
        (not state.protective_stop) or distance_m is None or distance_m >= separation_m + cfg.separation_clear_margin_m
    )
    return episodes.hysteresis(
        src,
        RuleId.ROBOT_PROTECTIVE_STOP,
        raise_if=inside,
        clear_if=away,
        severity=Severity.WARNING,
        message=f"Protective stop of {state.kind} {state.robot_id}: a person at {distance_m or 0.0:.1f} m "
        f"(separation {separation_m:.1f} m)",
        clear_reason="protective stop over" if not state.protective_stop else "nobody inside the separation distance",
        details={"kind": state.kind, "nearest_human_m": distance_m, "separation_m": separation_m},
    )


def _fault(episodes: Episodes, src: Source, state: RobotState) -> list[Outcome]:
    faults = ", ".join(state.faults)
    return episodes.hysteresis(
        src, RuleId.ROBOT_FAULT, raise_if=bool(state.faults), clear_if=not state.faults, severity=Severity.WARNING,
        message=f"Fault on {state.kind} {state.robot_id}: {faults}", clear_reason="no fault reported",
        details={"kind": state.kind, "faults": state.faults},
    )  # fmt: skip


def _battery(episodes: Episodes, src: Source, state: RobotState, cfg: RuleConfig) -> list[Outcome]:
    battery_pct = state.battery_pct
    if battery_pct is None:
        return []
    return episodes.hysteresis(
        src,
        RuleId.ROBOT_BATTERY_LOW,
        raise_if=battery_pct <= cfg.robot_battery_raise_pct,
        clear_if=battery_pct >= cfg.robot_battery_clear_pct,
        severity=Severity.INFO,
        message=f"Battery of {state.kind} {state.robot_id} low ({battery_pct:.0f} %): plan the swap",
        clear_reason=f"battery back to {battery_pct:.0f} %",
        details={"kind": state.kind, "battery_pct": battery_pct},
    )
