"""The ingest's exposure-ledger step: increments, dose projections, and the rules' per-agent context."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.alerting import AgentContext
from gateway.db import ledger_store
from gateway.db.ingest_store import IngestStore, RobotReceived
from gateway.settings import Settings
from services import assignments, ledger
from services.alerts import AlertDraft
from services.exposure.night import local_day
from services.model import Assignment, Received
from services.projection import DayTotals, DoseProjector

Totals = tuple[str, date, float, float, datetime | None]
HOUR_S = 3600.0


class LedgerUpdater:
    def __init__(self, store: IngestStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.tz = ZoneInfo(settings.site_timezone)
        self.projector = DoseProjector(self.tz)
        self._profiles: dict[str, ledger.ExposureProfile] = {}

    def update(self, new: Sequence[Received], robots: Sequence[RobotReceived]) -> list[Totals]:
        """Add what the newly stored frames (and loads put on robots) did to each agent's day."""
        self._profiles = ledger_store.profiles(self.store.conn, _agents(new))
        batch = ledger.day_table(new, self._profiles, self.tz)
        avoided_kg: dict[tuple[str, date], float] = defaultdict(float)
        for delta in self._avoided_load(robots):
            avoided_kg[(delta.agent_id, delta.day)] += delta.handling.avoided_kg
        hr = ledger_store.hr_minute_sums(new)
        ledger_store.add_hr_minutes(self.store.conn, hr)
        days = {m: local_day(m, self.tz) for m in {m for _, m in hr}}  # one zone lookup per minute, not per agent
        rows = ledger_store.day_rows(batch, avoided_kg, {(a, days[m]) for a, m in hr})
        return ledger_store.add_days(self.store.conn, rows)

    def context(self, new: Sequence[Received], robots: Sequence[RobotReceived],
                totals: Sequence[Totals]) -> dict[str, AgentContext]:  # fmt: skip
        """Per agent and robot: crew, ISO 7243 reference, today's HSE vibration points (2·Σa²T[h])."""
        ids = [*_agents(new), *sorted({r.state.robot_id for r in robots})]
        crews = ledger_store.crews(self.store.conn, ids)
        now_day = local_day(datetime.now(self.tz), self.tz)
        today = {agent: hav_sum for agent, day, _, hav_sum, _ in totals if day == now_day}
        out: dict[str, AgentContext] = {}
        for subject_id in ids:
            profile = self._profiles.get(subject_id)
            hav = today.get(subject_id)
            out[subject_id] = AgentContext(crews.get(subject_id), profile.wbgt_ref_c if profile else None,
                                           2.0 * hav / HOUR_S if hav is not None else None)  # fmt: skip
        return out

    def projected(self, new: Sequence[Received], totals: Sequence[Totals], worn: Sequence[Assignment],
                  now: datetime) -> list[AlertDraft]:  # fmt: skip
        """Early warnings for agents whose current rate takes today's dose past a limit before shift end."""
        for r in new:
            profile = self._profiles.get(r.agent_id or "", ledger.DEFAULT_PROFILE)
            self.projector.observe(r, profile.wbgt_ref_c)
        today = local_day(now, self.tz)
        drafts: list[AlertDraft] = []
        ends: dict[str, datetime] = {}  # each agent's planned end of shift, in one pass over the batch's assignments
        for a in worn:
            if a.valid_to is not None and (a.agent_id not in ends or a.valid_to > ends[a.agent_id]):
                ends[a.agent_id] = a.valid_to
        for agent_id, day, noise_sum, hav_sum, first_ts in totals:
            if day != today or first_ts is None:
                continue
            shift_end = ends.get(agent_id) or first_ts + timedelta(hours=self.settings.shift_hours)
            drafts += self.projector.project(DayTotals(agent_id, noise_sum, hav_sum, shift_end), now)
        return drafts

    def _avoided_load(self, robots: Sequence[RobotReceived]) -> list[ledger.DayDelta]:
        if not robots:
            return []
        ids = sorted({r.state.robot_id for r in robots})
        latest = self.store.robot_latest(ids)
        newer = [(r.state.robot_id, r.state.ts, r.state.payload_kg) for r in robots
                 if r.state.robot_id not in latest or r.state.ts > latest[r.state.robot_id][0]]  # fmt: skip
        previous = {rid: kg for rid, (_, kg) in latest.items() if kg is not None}
        rises = ledger.payload_increments(newer, previous)
        if not rises:
            return []
        worn = self.store.assignments_for(ids, min(ts for _, ts, _ in rises), max(ts for _, ts, _ in rises))
        out = []
        for robot_id, ts, kg in rises:
            agent_id = assignments.agent_at(worn, robot_id, ts)
            if agent_id is not None:
                out.append(ledger.avoided_load(agent_id, ts, kg, self.tz))
        return out


def _agents(frames: Sequence[Received]) -> list[str]:
    return sorted({r.agent_id for r in frames if r.agent_id is not None})
