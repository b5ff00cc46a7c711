"""From a stored batch to alerts: the rule engine, dose projections, robot links, then the database.

The pipeline calls ``Alerting.on_batch`` inside the batch's transaction with the frames stored for the
first time; time-driven rules (cancel windows, silence) run from ``Alerting.tick``. All decisions are
made by pure code in ``services``; this adapter only gathers context and writes outcomes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import psycopg

from gateway.db import alerts_store
from gateway.db.alerts_store import ToRaise
from gateway.db.ingest_store import RobotReceived, StatusChange
from gateway.db.rule_settings import RuleSettings
from gateway.settings import Settings
from services.alerts import Alert, AlertDraft
from services.detection import (
    Cancel,
    Clear,
    Confirm,
    DetectionEngine,
    Outcome,
    Raise,
)
from services.detection.engine import FrameInput
from services.incidents import PAUSE_RULES, RobotPosition, nearest_robot
from services.model import Received

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AgentContext:
    """What the rules need to know of a subject beyond its frame (from the registry and the ledger)."""

    crew_id: str | None = None
    wbgt_ref_c: float | None = None
    hav_points_today: float | None = None


class RobotLinker:
    """Links an agent's fall/SOS/man-down alert to the nearest robot, with the robot's state at the time."""

    def __init__(self, conn: psycopg.Connection[Any], max_distance_m: float, fresh_s: float = 60.0) -> None:
        self.conn = conn
        self.max_distance_m = max_distance_m
        self.fresh_s = fresh_s

    def link(self, items: Sequence[ToRaise], frames: Sequence[Received], now: datetime) -> list[ToRaise]:
        positions = {r.frame.device_id: r.frame.gps for r in sorted(frames, key=lambda r: r.frame.ts)
                     if r.frame.gps is not None}  # fmt: skip
        robots: list[dict[str, Any]] | None = None
        out: list[ToRaise] = []
        for item in items:
            draft = item.draft
            gps = positions.get(draft.device_id or "")
            if draft.rule not in PAUSE_RULES or draft.robot_id or gps is None:
                out.append(item)
                continue
            robots = robots if robots is not None else self._robots(now)
            candidates = [RobotPosition(r["robot_id"], r["lat"], r["lon"]) for r in robots]
            found = nearest_robot(gps.lat, gps.lon, candidates, self.max_distance_m)
            if found is None:
                out.append(item)
                continue
            robot_id, distance_m = found
            state = next(r for r in robots if r["robot_id"] == robot_id)
            details = {**item.details, "robot_distance_m": round(distance_m, 1)}
            out.append(ToRaise(replace(draft, robot_id=robot_id), details, state))
        return out

    def _robots(self, now: datetime) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT robot_id, ts, kind, lat, lon, speed_ms, battery_pct, mode, estop, protective_stop,"
            " nearest_human_m, payload_kg FROM robot_latest WHERE lat IS NOT NULL AND ts > %s",
            (now - timedelta(seconds=self.fresh_s),),
        )
        names = [c.name for c in cur.description or []]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for row in rows:
            row["ts"] = row["ts"].isoformat()
        return rows


class Alerting:
    """The rule engine's outcomes applied to the alerts, inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection[Any], settings: Settings) -> None:
        self.conn = conn
        self.rules = RuleSettings()
        self.engine = DetectionEngine(self.rules.config_for)
        self.linker = RobotLinker(conn, settings.robot_link_distance_m)
        self._reload_s = settings.rule_reload_s

    def use(self, conn: psycopg.Connection[Any]) -> None:
        """A new database connection (after a reconnect); the engine keeps its state."""
        self.conn = self.linker.conn = conn

    def judge(self, new: Sequence[Received], robots: Sequence[RobotReceived], statuses: Sequence[StatusChange],
              context: Mapping[str, AgentContext]) -> list[Outcome]:  # fmt: skip
        """Run the rules on newly stored frames (in time order), robot states and link changes."""
        if time.monotonic() - self.rules.loaded_at > self._reload_s:
            self.rules.load(self.conn)
        frames = []
        for r in sorted(new, key=lambda r: (r.frame.ts, r.frame.seq)):
            ctx = context.get(r.agent_id or "", AgentContext())
            frames.append(FrameInput(r, ctx.crew_id, ctx.wbgt_ref_c, ctx.hav_points_today))
        out = self.engine.on_frames(frames)  # as ``on_frame`` one by one, the fall detectors batched
        for s in sorted(robots, key=lambda s: s.state.ts):
            out += self.engine.on_robot_state(s.state, s.late, context.get(s.state.robot_id, AgentContext()).crew_id)
        for change in statuses:
            out += self.engine.on_link(change.device_id, change.agent_id, change.link, change.at)
        return out

    def apply(self, outcomes: Sequence[Outcome], extra: Sequence[AlertDraft], frames: Sequence[Received],
              now: datetime) -> list[tuple[Alert, bool]]:  # fmt: skip
        """Write outcomes: raise (linking robots), clear, cancel, confirm. Returns the alerts raised or counted."""
        to_raise = [ToRaise(o.draft, dict(o.details)) for o in outcomes if isinstance(o, Raise)]
        to_raise += [ToRaise(d) for d in extra]
        raised = alerts_store.upsert_drafts(self.conn, self.linker.link(to_raise, frames, now), now)
        for o in outcomes:
            if isinstance(o, Clear):
                alerts_store.clear(self.conn, o.subject_type.value, o.subject_id, o.rule, o.at, o.reason)
            elif isinstance(o, Cancel):
                alerts_store.cancel_by_wearer(self.conn, o.subject_type.value, o.subject_id, o.rule, o.at)
            elif isinstance(o, Confirm):
                alerts_store.confirm(self.conn, o.subject_type.value, o.subject_id, o.rule, o.at, o.message,
                                     o.severity)  # fmt: skip
        return raised

    def tick(self, now: datetime) -> list[Outcome]:
        return self.engine.tick(now)
