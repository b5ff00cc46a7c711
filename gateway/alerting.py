"""From a stored batch to alerts: the rule engine, dose projections, robot links, then the database.

The pipeline calls ``Alerting.on_batch`` inside the batch's transaction with the frames stored for the
first time; time-driven rules (cancel windows, silence) run from ``Alerting.tick``. All decisions are
made by pure code in ``services``; this adapter only gathers context and writes outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import psycopg

from gateway.db.alerts_store import ToRaise
from services.alerts import AlertDraft
from services.incidents import PAUSE_RULES, RobotPosition, nearest_robot
from services.model import Received


class RobotLinker:
    """Links an agent's fall/SOS/man-down alert to the nearest robot, with the robot's state at the time."""

    def __init__(self, conn: psycopg.Connection[Any], max_distance_m: float, fresh_s: float = 60.0) -> None:
        self.conn = conn
        self.max_distance_m = max_distance_m
        self.fresh_s = fresh_s

    def link(self, drafts: Sequence[AlertDraft], frames: Sequence[Received], now: datetime) -> list[ToRaise]:
        positions = {r.frame.device_id: r.frame.gps for r in sorted(frames, key=lambda r: r.frame.ts)
                     if r.frame.gps is not None}  # fmt: skip
        robots: list[dict[str, Any]] | None = None
        out: list[ToRaise] = []
        for draft in drafts:
            gps = positions.get(draft.device_id or "")
            if draft.rule not in PAUSE_RULES or draft.robot_id or gps is None:
                out.append(ToRaise(draft))
                continue
            robots = robots if robots is not None else self._robots(now)
            candidates = [RobotPosition(r["robot_id"], r["lat"], r["lon"]) for r in robots]
            found = nearest_robot(gps.lat, gps.lon, candidates, self.max_distance_m)
            if found is None:
                out.append(ToRaise(draft))
                continue
            robot_id, distance_m = found
            state = next(r for r in robots if r["robot_id"] == robot_id)
            linked = replace(draft, robot_id=robot_id)
            out.append(ToRaise(linked, {"robot_distance_m": round(distance_m, 1)}, state))
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

