"""Projected-dose alerts: warn a supervisor while there is still time to rotate the task.

At the agent's recent rate of exposure (an exponentially weighted mean over ``tau_s``, default 15 min),
when would today's dose cross the limit? If that moment falls before the end of the shift, raise a warning
with the projected time ("reaches 85 dB(A) by 11:40 — rotate the task"). Targets: LEX,8h 85 dB(A) (upper
action value, R4431-2), HAV A(8) 5 m/s² (limit value, Directive 2002/44/EC), and WBGT above the ISO 7243
reference for the agent's task (a linear trend of the last half hour).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from services.alerts import AlertDraft, Severity, SubjectType
from services.exposure import heat, vibration
from services.exposure.noise import REFERENCE_DURATION_S, UPPER_ACTION_LEX_DBA
from services.model import Received

NOISE_TARGET_DBA = UPPER_ACTION_LEX_DBA
HAV_TARGET_MS2 = vibration.HAV_LIMIT_A8_MS2
NOISE_TARGET_SUM = REFERENCE_DURATION_S * 10 ** (0.1 * NOISE_TARGET_DBA)  # Σ t·10^(L/10) at LEX,8h = 85
HAV_TARGET_SUM = REFERENCE_DURATION_S * HAV_TARGET_MS2**2  # Σ a²·T at A(8) = 5 m/s²


@dataclass(frozen=True, slots=True)
class DayTotals:
    """The ledger's running sums for the agent's current day, after this batch."""

    agent_id: str
    noise_sum_t_10pow: float
    hav_sum_a2t: float
    shift_end: datetime


@dataclass
class _Rate:
    value: float = 0.0
    last: datetime | None = None

    def observe(self, ts: datetime, per_s: float, tau_s: float) -> None:
        if self.last is None:
            self.value, self.last = per_s, ts
            return
        dt_s = max((ts - self.last).total_seconds(), 0.0)
        weight = 1.0 - math.exp(-dt_s / tau_s) if dt_s > 0 else 1.0 / tau_s
        self.value += weight * (per_s - self.value)
        self.last = max(self.last, ts)


@dataclass
class DoseProjector:
    """Per-agent recent rates, fed with live frames; ``project`` turns day totals into early warnings."""

    tz: tzinfo
    tau_s: float = 900.0
    heat_window_s: float = 1800.0
    # A WBGT trend is only believed over at least 15 min of data, close to the reference, for the next 2 h:
    # minute-scale noise or a cool morning must not project a crossing hours away.
    heat_min_span_s: float = 900.0
    heat_margin_c: float = 3.0
    heat_horizon_s: float = 7200.0
    _noise: dict[str, _Rate] = field(default_factory=dict)
    _hav: dict[str, _Rate] = field(default_factory=dict)
    _wbgt: dict[str, deque[tuple[datetime, float, float]]] = field(default_factory=dict)
    _warned: set[tuple[str, str, str]] = field(default_factory=set)

    def observe(self, received: Received, wbgt_ref_c: float | None = None) -> None:
        """Update the agent's recent rates with one live frame (late frames are history, not rates)."""
        agent, f = received.agent_id, received.frame
        if agent is None or received.late:
            return
        if f.noise is not None:
            self._noise.setdefault(agent, _Rate()).observe(f.ts, 10 ** (0.1 * f.noise.laeq_db), self.tau_s)
        hav = f.hav.ahv_ms2**2 * f.hav.trigger_s if f.hav is not None else 0.0
        self._hav.setdefault(agent, _Rate()).observe(f.ts, hav, self.tau_s)
        if f.env is not None and wbgt_ref_c is not None:
            wbgt = heat.wbgt_c(f.env.temp_c, f.env.rh_pct, f.env.globe_temp_c)
            if wbgt is not None:
                window = self._wbgt.setdefault(agent, deque())
                window.append((f.ts, wbgt[0], wbgt_ref_c))
                while window and (f.ts - window[0][0]).total_seconds() > self.heat_window_s:
                    window.popleft()

    def project(self, totals: DayTotals, now: datetime) -> list[AlertDraft]:
        drafts: list[AlertDraft] = []
        noise_rate = self._noise.get(totals.agent_id)
        if noise_rate is not None:
            crossing = _crossing(totals.noise_sum_t_10pow, NOISE_TARGET_SUM, noise_rate.value, now)
            drafts += self._warn(totals, crossing, "noise_projected", f"{NOISE_TARGET_DBA:.0f} dB(A) LEX,8h", now)
        hav_rate = self._hav.get(totals.agent_id)
        if hav_rate is not None and hav_rate.value > 0:
            crossing = _crossing(totals.hav_sum_a2t, HAV_TARGET_SUM, hav_rate.value, now)
            drafts += self._warn(totals, crossing, "hav_projected", f"A(8) {HAV_TARGET_MS2:.0f} m/s²", now)
        crossing = self._heat_crossing(totals.agent_id, now)
        drafts += self._warn(totals, crossing, "heat_projected", "the ISO 7243 WBGT reference", now)
        return drafts

    def _heat_crossing(self, agent_id: str, now: datetime) -> datetime | None:
        window = self._wbgt.get(agent_id)
        if not window or (window[-1][0] - window[0][0]).total_seconds() < self.heat_min_span_s:
            return None
        t0 = window[0][0]
        xs = [(ts - t0).total_seconds() for ts, _, _ in window]
        ys = [w for _, w, _ in window]
        n, mean_x, mean_y = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
        var_x = sum((x - mean_x) ** 2 for x in xs)
        if var_x == 0:
            return None
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x
        current = mean_y + slope * (xs[-1] - mean_x)
        reference = window[-1][2]
        if current >= reference:
            return now
        if slope <= 0 or n < 2 or current < reference - self.heat_margin_c:
            return None
        seconds = (reference - current) / slope
        return now + timedelta(seconds=seconds) if seconds <= self.heat_horizon_s else None

    def _warn(self, totals: DayTotals, crossing: datetime | None, rule: str, what: str,
              now: datetime) -> list[AlertDraft]:  # fmt: skip
        if crossing is None or crossing > totals.shift_end:
            return []
        key = (totals.agent_id, rule, crossing.astimezone(self.tz).date().isoformat())
        if key in self._warned:
            return []
        self._warned.add(key)
        local = crossing.astimezone(self.tz).strftime("%H:%M")
        reached = f"has reached {what}" if crossing <= now else f"reaches {what} by {local}"
        message = f"{reached} — rotate the task"
        return [AlertDraft(rule=rule, severity=Severity.WARNING, subject_type=SubjectType.AGENT,
                           subject_id=totals.agent_id, source_ts=now, message=message,
                           agent_id=totals.agent_id)]  # fmt: skip


def _crossing(total: float, target: float, rate_per_s: float, now: datetime) -> datetime | None:
    """When ``total`` growing at ``rate_per_s`` reaches ``target`` (now if already there)."""
    if total >= target:
        return now
    if rate_per_s <= 0:
        return None
    return now + timedelta(seconds=(target - total) / rate_per_s)
