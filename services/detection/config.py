"""Every threshold of the accident-risk rules, per site with per-crew overrides.

Each rule raises on one threshold and clears on another (hysteresis), so a value hovering around the raise
threshold gives one alert, not a flicker. Defaults cite where the value comes from; a site changes them in
its settings, a crew (e.g. lone gardeners, or a crew in a heat wave) overrides a few of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from services.errors import DomainError
from services.exposure import handling, noise
from services.exposure.heat_strain import PSI_CORE_TEMP_0_C, PSI_HR_0_BPM


class InvalidRuleConfig(DomainError, ValueError):
    """A rule setting is unknown, of the wrong type, or its clear threshold is on the wrong side of its raise."""


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """The thresholds of every rule; the SOS rule has none (an SOS always raises)."""

    # Falls and man-down.
    fall_cancel_window_s: float = 30.0
    """Time the wearer has to cancel a suspected fall before the man-down alarm (DATI practice: a local
    countdown of tens of seconds before an automatic alarm is transmitted, R4543-19 "secouru dans les meilleurs
    délais")."""
    no_motion_raise_s: float = 120.0
    """Motionless this long → man-down. No French standard; DGUV Regel 112-139 (DE, Personen-Notsignal-Anlagen)
    frames the immobility alarm, and DATI vendors default to about 2 min."""
    motion_acc_std_ms2: float = 0.3
    """Standard deviation of |acc| within a 1-s frame from which the wearer is moving: a still body (breathing,
    sensor noise) stays below 0.1 m/s², slow walking is above 1 m/s²."""
    motion_clear_s: float = 5.0
    """Moving this long clears a man-down or a confirmed fall: the wearer is up again (not one twitch)."""

    # Heat strain (Moran et al. 1998 PSI; core temperature from heart rate, Buller et al. 2013).
    psi_raise: float = 7.0
    """PSI 7-8 is "high" strain on Moran's 0-10 scale."""
    psi_clear: float = 5.0
    """PSI ≤ 5 ("moderate") is the back-to-work level."""
    core_temp_raise_c: float = 38.5
    """ACGIH heat-stress TLV documentation: core temperature kept at or below 38.5 °C for medically selected,
    acclimatised workers (38.0 °C for the others); ISO 9886:2004 for core temperature as the strain measure."""
    core_temp_clear_c: float = 38.0
    """Back to the 38.0 °C limit for unselected, unacclimatised workers (ACGIH): fit to resume."""
    psi_core_temp_0_c: float = PSI_CORE_TEMP_0_C
    """PSI baseline core temperature (Buller's initial 37.1 °C)."""
    psi_hr_0_bpm: float = PSI_HR_0_BPM
    """PSI baseline heart rate (a resting 70 bpm)."""

    # WBGT against the ISO 7243 reference of the agent's task.
    wbgt_over_raise_min: float = 15.0
    """ISO 7243:2017 compares the 1-h mean WBGT with the reference: 15 consecutive minutes above it already
    commit a quarter of that hour."""
    wbgt_clear_margin_c: float = 1.0
    """Clear only when the 1-min mean WBGT is at least this far below the reference..."""
    wbgt_clear_min: float = 10.0
    """...for this many consecutive minutes."""

    # Noise peaks.
    noise_peak_raise_dbc: float = noise.LOWER_ACTION_PEAK_DBC
    """LCpeak 135 dB(C): the lower action value of R4431-2 (Directive 2003/10/EC art. 3)."""
    noise_peak_clear_dbc: float = 130.0
    """Peaks below this count as quiet (5 dB of hysteresis under the action value)."""
    noise_quiet_clear_s: float = 300.0
    """Quiet this long (every LCpeak below ``noise_peak_clear_dbc``) clears the alert."""

    # Hand-arm vibration (HSE L140 points: 100 = the 2.5 m/s² action value, 400 = the 5 m/s² limit value).
    hav_warn_points: float = 300.0
    """Three quarters of the daily limit (A(8) ≈ 4.3 m/s²): time to change the tool or the task."""
    hav_critical_points: float = 400.0
    """A(8) = 5 m/s², the limit value of Directive 2002/44/EC art. 3 and R4443-1: stop vibrating tools."""
    hav_clear_points: float = 200.0
    """Today's points only grow: they fall below this on the next local day, which re-arms the rule."""

    # Manual handling (NF X35-109:2011).
    lift_single_raise_kg: float = handling.VERY_HEAVY_LIFT_KG
    """25 kg: NF X35-109's maximum unit mass, admissible only under conditions."""
    lift_heavy_kg: float = handling.HEAVY_LIFT_KG
    """15 kg: NF X35-109's acceptable unit mass; heavier lifts are counted per hour."""
    lift_heavy_per_hour_raise: float = 12.0
    """One ≥ 15 kg lift every 5 min: NF X35-109's first-level assessment does not cover more frequent lifts."""
    lift_heavy_per_hour_clear: float = 6.0
    """Half that rate over the last hour, and no lift over the single-lift threshold for ``lift_clear_quiet_s``."""
    lift_clear_quiet_s: float = 900.0
    """A quarter of an hour without a lift ≥ ``lift_single_raise_kg``."""

    # Robots.
    robot_battery_raise_pct: float = 20.0
    """A follower or mower below 20 % will not finish a round: plan the swap before it stops on the road."""
    robot_battery_clear_pct: float = 30.0
    follower_separation_m: float = 0.5
    """The follower's configured protective stop distance to its bumper (its ISO 12100 risk assessment)."""
    mower_separation_m: float = 3.0
    """The mower's configured protective zone (blades: EN 50636-2-107 risk assessment)."""
    robot_separation_m: float = 1.0
    """Any other kind of robot."""
    separation_clear_margin_m: float = 0.5
    """A protective-stop alert clears once the nearest person is this much beyond the separation distance."""

    # Wearables.
    offline_after_s: float = 60.0
    """No frame for a minute (60 frames missed) from a device that sends one per second: it is offline."""
    wearable_battery_raise_pct: float = 15.0
    """A safety device under 15 % may die before the end of the shift."""
    wearable_battery_clear_pct: float = 25.0

    # Lone workers (CNAMTS recommendation R416; Code du travail R4543-19).
    lone_worker: bool = False
    """Whether this crew works alone, out of sight and earshot: only then is a periodic check-in required."""
    checkin_interval_s: float = 1800.0
    """A lone worker checks in (a frame with ``checkin``) at least every 30 min."""

    def __post_init__(self) -> None:
        pairs = (  # (name of the raise threshold, name of the clear threshold, clear must be below raise)
            ("psi_raise", "psi_clear", True),
            ("core_temp_raise_c", "core_temp_clear_c", True),
            ("noise_peak_raise_dbc", "noise_peak_clear_dbc", True),
            ("hav_warn_points", "hav_clear_points", True),
            ("lift_heavy_per_hour_raise", "lift_heavy_per_hour_clear", True),
            ("robot_battery_raise_pct", "robot_battery_clear_pct", False),
            ("wearable_battery_raise_pct", "wearable_battery_clear_pct", False),
        )
        for raise_name, clear_name, clear_below in pairs:
            raise_at, clear_at = getattr(self, raise_name), getattr(self, clear_name)
            if (clear_at >= raise_at) if clear_below else (clear_at <= raise_at):
                side = "below" if clear_below else "above"
                raise InvalidRuleConfig(f"{clear_name}={clear_at} must be {side} {raise_name}={raise_at}")
        if self.hav_critical_points < self.hav_warn_points:
            raise InvalidRuleConfig("hav_critical_points must be at least hav_warn_points")
        if self.lift_single_raise_kg < self.lift_heavy_kg:
            raise InvalidRuleConfig("lift_single_raise_kg must be at least lift_heavy_kg")
        durations = ("fall_cancel_window_s", "no_motion_raise_s", "offline_after_s", "checkin_interval_s",
                     "wbgt_over_raise_min", "wbgt_clear_min", "noise_quiet_clear_s", "lift_clear_quiet_s")  # fmt: skip
        for name in durations:
            if not getattr(self, name) > 0:
                raise InvalidRuleConfig(f"{name} must be > 0")

    def separation_m(self, robot_kind: str) -> float:
        """The separation distance for a kind of robot (contract v1 ``kind``)."""
        return {"follower": self.follower_separation_m, "mower": self.mower_separation_m}.get(
            robot_kind, self.robot_separation_m
        )


Override = Mapping[str, float | bool]
_FIELD_TYPES = {f.name: f.type for f in fields(RuleConfig)}


def with_overrides(base: RuleConfig, overrides: Override) -> RuleConfig:
    """``base`` with some thresholds replaced; unknown names and wrong types raise ``InvalidRuleConfig``."""
    for name, value in overrides.items():
        expected = _FIELD_TYPES.get(name)
        if expected is None:
            raise InvalidRuleConfig(f"unknown rule setting {name!r}")
        ok = (
            isinstance(value, bool)
            if expected == "bool"
            else isinstance(value, int | float) and not isinstance(value, bool)
        )
        if not ok:
            raise InvalidRuleConfig(f"rule setting {name!r} must be a {expected}, got {value!r}")
    changes: dict[str, Any] = {name: v if isinstance(v, bool) else float(v) for name, v in overrides.items()}
    return replace(base, **changes)


class ConfigResolver:
    """The site's defaults and each crew's overrides, resolved once: ``config_for(crew_id)``."""

    def __init__(self, site: RuleConfig | None = None, crew_overrides: Mapping[str, Override] | None = None) -> None:
        self._site = site if site is not None else RuleConfig()
        self._crews = {crew: with_overrides(self._site, o) for crew, o in (crew_overrides or {}).items()}

    @property
    def site(self) -> RuleConfig:
        return self._site

    def config_for(self, crew_id: str | None) -> RuleConfig:
        """The crew's configuration; the site's for an unknown crew or a device worn by nobody."""
        if crew_id is None:
            return self._site
        return self._crews.get(crew_id, self._site)
