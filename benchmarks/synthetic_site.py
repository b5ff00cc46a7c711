"""A synthetic site for the dashboard benchmark: agents in crews of 12 around Paris, robots and alerts.

Records have exactly the public JSON shapes of the gateway (``gateway/db/queries.py`` for agents and
robots, ``gateway/db/alerts_store.alert_json`` for alerts, the crews and basemap routes), so the dashboard
cannot tell this site from a real one. Each ``tick`` is one second of the worst case: every wearable
reports, so every agent's record changes; a new alert is raised every ``alert_every_s`` seconds, and older
ones are acknowledged, then resolved, as supervisors would.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CREW_SIZE = 12
# The synthetic city: crews' areas tile this box (degrees, WGS 84).
LAT_MIN, LAT_MAX = 48.82, 48.90
LON_MIN, LON_MAX = 2.25, 2.42
LOCAL_TZ = ZoneInfo("Europe/Paris")  # exposure days are local days (as in the ledger)
ACK_AFTER_S = 6.0
RESOLVE_AFTER_S = 20.0
ROBOT_KINDS = ("follower", "mower", "exoskeleton")

FIRST_NAMES = ("Camille", "Nadia", "Karim", "Julie", "Mamadou", "Léa", "Thomas", "Inès", "Yanis", "Sofia",
               "Hugo", "Aïcha", "Lucas", "Emma", "Rayan", "Chloé", "Nathan", "Sarah", "Mehdi", "Manon")  # fmt: skip
LAST_NAMES = ("Martin", "Bernard", "Diallo", "Moreau", "Haddad", "Petit", "Nguyen", "Lefèvre", "Traoré",
              "Garcia", "Roux", "Benali", "Fontaine", "Mercier", "Kone", "Blanc", "Girard", "Chevalier")  # fmt: skip
# (rule, severity, message) as the rules engine would word them.
ALERT_KINDS = (
    ("sos", "critical", "SOS pressed"),
    ("fall", "critical", "Suspected fall"),
    ("heat_strain", "warning", "Physiological strain index 7.4"),
    ("noise_projected", "warning", "Projected daily noise dose 112 %"),
    ("wearable_battery_low", "info", "Wearable battery 9 %"),
)


def iso(at: datetime) -> str:
    """RFC 3339 in UTC with a Z, as the gateway writes times (gateway/timefmt.py)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Agent:
    index: int
    record: dict[str, Any]
    area_center: tuple[float, float]  # (lat, lon) of the crew's area
    hr_bpm: float
    battery_pct: float
    open_alert: str | None = None


@dataclass
class _OpenAlert:
    record: dict[str, Any]
    agent: _Agent
    raised_s: float  # site time (s since the start)


class SyntheticSite:
    """``n_agents`` agents in crews of 12 (each crew with a work area), ``n_robots`` robots, alerts."""

    def __init__(self, n_agents: int, n_robots: int = 100, seed: int = 6, alert_every_s: float = 2.0) -> None:
        self._rng = random.Random(seed)
        self._alert_every_s = alert_every_s
        self._elapsed_s = 0.0
        self._last_alert_s = 0.0
        self._alert_seq = 0
        self._alerts: dict[str, _OpenAlert] = {}
        n_crews = math.ceil(n_agents / CREW_SIZE)
        self.crews = [self._crew(index, n_crews, min(CREW_SIZE, n_agents - index * CREW_SIZE))
                      for index in range(n_crews)]  # fmt: skip
        self._agents = [self._agent(index) for index in range(n_agents)]
        self._robots = [self._robot(index, n_robots) for index in range(n_robots)]
        now = datetime.now(UTC)
        # A site of this size already has a few alerts open when the supervisor arrives.
        for _ in range(max(3, n_agents // 200)):
            self._raise(now, -self._rng.uniform(0.0, ACK_AFTER_S))

    @property
    def n_agents(self) -> int:
        return len(self._agents)

    def _crew(self, index: int, n_crews: int, size: int) -> dict[str, Any]:
        columns = math.ceil(math.sqrt(n_crews))
        rows = math.ceil(n_crews / columns)
        dlat, dlon = (LAT_MAX - LAT_MIN) / rows, (LON_MAX - LON_MIN) / columns
        lat0, lon0 = LAT_MIN + (index // columns) * dlat, LON_MIN + (index % columns) * dlon
        # A pentagon inset in its grid cell, so neighbouring areas do not touch.
        ring = [[round(lon0 + dlon * (0.5 + 0.4 * math.sin(k * 2 * math.pi / 5)), 6),
                 round(lat0 + dlat * (0.5 + 0.4 * math.cos(k * 2 * math.pi / 5)), 6)] for k in range(5)]  # fmt: skip
        ring.append(ring[0])
        return {"crew_id": f"crew-{index + 1:04d}", "name": f"Équipe {index + 1}", "site_id": "paris",
                "area": {"type": "Polygon", "coordinates": [ring]}, "agents": size, "agents_in_alert": 0}  # fmt: skip

    def _agent(self, index: int) -> _Agent:
        crew = self.crews[index // CREW_SIZE]
        ring = crew["area"]["coordinates"][0][:-1]
        center = (sum(p[1] for p in ring) / len(ring), sum(p[0] for p in ring) / len(ring))
        name = f"{self._rng.choice(FIRST_NAMES)} {self._rng.choice(LAST_NAMES)} {index + 1}"
        record: dict[str, Any] = {
            "agent_id": f"agent-{index + 1:05d}", "display_name": name, "crew_id": crew["crew_id"],
            "site_id": "paris", "device_id": f"wear-{index + 1:05d}", "last_seen": None, "status": "ok",
            "hr_bpm": None, "battery_pct": None, "open_alerts": 0, "position": None, "exposure_today": None,
        }  # fmt: skip
        return _Agent(index, record, center, hr_bpm=self._rng.uniform(70, 110), battery_pct=self._rng.uniform(40, 100))

    def _robot(self, index: int, n_robots: int) -> dict[str, Any]:
        crew = self.crews[index * len(self.crews) // n_robots]  # spread over the city
        lat, lon = crew["area"]["coordinates"][0][0][1], crew["area"]["coordinates"][0][0][0]
        return {
            "robot_id": f"robot-{index + 1:03d}", "kind": ROBOT_KINDS[index % len(ROBOT_KINDS)],
            "crew_id": crew["crew_id"], "last_seen": None, "battery_pct": 90.0, "mode": "follow",
            "estop": index % 50 == 7, "protective_stop": index % 20 == 3, "nearest_human_m": 3.0,
            "payload_kg": 40.0, "speed_ms": 0.8, "faults": [],
            "pose": {"x_m": 0.0, "y_m": 0.0, "yaw_rad": 0.0, "lat": lat, "lon": lon},
        }  # fmt: skip

    def tick(self, now: datetime, dt_s: float = 1.0) -> list[dict[str, Any]]:
        """Advances one step; returns the live messages to send, as the gateway words them."""
        self._elapsed_s += dt_s
        messages: list[dict[str, Any]] = []
        messages.extend(self._age_alerts(now))
        if self._elapsed_s - self._last_alert_s >= self._alert_every_s:
            self._last_alert_s = self._elapsed_s
            raised = self._raise(now, self._elapsed_s)
            if raised is not None:
                messages.append({"type": "alert.raised", "alert": raised})
        clock = (iso(now), now.astimezone(LOCAL_TZ).date().isoformat())
        agents = [self._report(agent, now, clock) for agent in self._agents]
        messages.append({"type": "agents.changed", "items": agents})
        messages.append({"type": "robots.changed", "items": [self._move(robot, now) for robot in self._robots]})
        return messages

    def agents(self, now: datetime) -> list[dict[str, Any]]:
        return [agent.record if agent.record["last_seen"] else self._report(agent, now) for agent in self._agents]

    def robots(self, now: datetime) -> list[dict[str, Any]]:
        return [robot if robot["last_seen"] else self._move(robot, now) for robot in self._robots]

    def open_alerts(self) -> list[dict[str, Any]]:
        alerts = [item.record for item in self._alerts.values() if item.record["status"] != "resolved"]
        return sorted(alerts, key=lambda alert: alert["raised_at"], reverse=True)

    def _report(self, agent: _Agent, now: datetime, clock: tuple[str, str] | None = None) -> dict[str, Any]:
        # Cheap arithmetic, no random draws: 10,000 of these must take well under the second they stand for.
        now_iso, day = clock or (iso(now), now.astimezone(LOCAL_TZ).date().isoformat())
        t_s, k = self._elapsed_s, agent.index
        agent.hr_bpm = 95 + 25 * math.sin(t_s / 9 + k)
        agent.battery_pct = max(1.0, agent.battery_pct - 0.005)
        worked_s = 3 * 3600 + int(t_s)
        noise_pct = round(20 + (k * 7) % 60 + t_s / 100, 1)
        hav = round((k * 13) % 200 + t_s / 50, 1)
        position = None
        if agent.open_alert:
            lat, lon = agent.area_center
            wobble = 4e-4 * math.sin(t_s / 5 + k)
            position = {"lat": round(lat + wobble, 6), "lon": round(lon - wobble, 6), "at": now_iso}
        # A new object each second, as a JSON message gives the page: every tile and marker sees a change.
        agent.record = {
            **agent.record, "last_seen": now_iso, "status": "alert" if agent.open_alert else "ok",
            "hr_bpm": round(agent.hr_bpm), "battery_pct": round(agent.battery_pct),
            "open_alerts": 1 if agent.open_alert else 0, "position": position,
            "exposure_today": {
                "day": day, "worked_s": worked_s,
                "noise_dose_pct": noise_pct, "noise_dose_projected_pct": round(noise_pct * 8 * 3600 / worked_s, 1),
                "hav_points": hav, "hav_points_projected": round(hav * 8 * 3600 / worked_s, 1),
                "psi_max": round(1 + (agent.hr_bpm - 60) / 20, 1), "wbgt_max_c": 24.5,
                "lifts": 40 + int(t_s) // 30, "tonnage_kg": 600.0 + t_s,
            },
        }  # fmt: skip
        return agent.record

    def _move(self, robot: dict[str, Any], now: datetime) -> dict[str, Any]:
        pose = robot["pose"]
        robot.update({
            "last_seen": iso(now), "battery_pct": round(max(5.0, robot["battery_pct"] - 0.01), 2),
            "nearest_human_m": round(self._rng.uniform(0.8, 6.0), 2), "speed_ms": round(self._rng.uniform(0, 1.2), 2),
            "pose": {**pose, "lat": round(pose["lat"] + self._rng.uniform(-2e-5, 2e-5), 7),
                     "lon": round(pose["lon"] + self._rng.uniform(-2e-5, 2e-5), 7)},
        })  # fmt: skip
        return dict(robot)

    def _raise(self, now: datetime, at_s: float) -> dict[str, Any] | None:
        free = [agent for agent in self._rng.sample(self._agents, min(20, len(self._agents))) if not agent.open_alert]
        if not free:
            return None
        agent = free[0]
        rule, severity, message = ALERT_KINDS[self._alert_seq % len(ALERT_KINDS)]
        self._alert_seq += 1
        alert_id = f"00000000-0000-4000-8000-{self._alert_seq:012d}"
        raised_at = iso(now + timedelta(seconds=min(0.0, at_s)))
        details: dict[str, Any] = {"peak_acc_ms2": 31.4, "cancel_window_s": 30} if rule == "fall" else {}
        record = {
            "alert_id": alert_id, "rule": rule, "severity": severity, "status": "raised", "subject_type": "agent",
            "subject_id": agent.record["agent_id"], "agent_id": agent.record["agent_id"],
            "agent_name": agent.record["display_name"], "device_id": agent.record["device_id"], "robot_id": None,
            "message": message, "raised_at": raised_at, "source_ts": raised_at, "last_seen_ts": raised_at,
            "late": False, "repeat_count": 1, "escalation_level": 0, "acknowledged_by": None, "acknowledged_at": None,
            "resolved_by": None, "resolved_at": None, "resolution": None, "resolution_comment": None,
            "site_id": "paris", "cleared_at": None, "details": details, "robot_state": None,
        }  # fmt: skip
        agent.open_alert = alert_id
        self._alerts[alert_id] = _OpenAlert(record, agent, at_s)
        return record

    def _age_alerts(self, now: datetime) -> list[dict[str, Any]]:
        messages = []
        for alert_id, item in list(self._alerts.items()):
            age_s = self._elapsed_s - item.raised_s
            status = item.record["status"]
            if status == "raised" and age_s >= ACK_AFTER_S:
                item.record = {**item.record, "status": "acknowledged", "acknowledged_by": "Banc d'essai",
                               "acknowledged_at": iso(now)}  # fmt: skip
            elif status == "acknowledged" and age_s >= RESOLVE_AFTER_S:
                item.record = {**item.record, "status": "resolved", "resolved_by": "Banc d'essai",
                               "resolved_at": iso(now), "resolution": "test"}  # fmt: skip
                del self._alerts[alert_id]
                item.agent.open_alert = None
            else:
                continue
            messages.append({"type": "alert.updated", "alert": item.record})
        return messages


def basemap(repo_root: Path) -> dict[str, Any]:
    """The real offline basemap when the repository ships one, else a small made-up one (a river, roads, parks)."""
    shipped = repo_root / "dashboards" / "basemap" / "paris.geojson"
    if shipped.is_file():
        import json

        loaded: dict[str, Any] = json.loads(shipped.read_text(encoding="utf-8"))
        return loaded
    features: list[dict[str, Any]] = [{
        "type": "Feature", "properties": {"kind": "water", "name": "Seine"},
        "geometry": {"type": "LineString", "coordinates": [[2.25, 48.845], [2.30, 48.862], [2.35, 48.855],
                                                           [2.38, 48.845], [2.42, 48.825]]},
    }]  # fmt: skip
    for k in range(12):
        lat = LAT_MIN + (k + 0.5) * (LAT_MAX - LAT_MIN) / 12
        road = {"type": "LineString", "coordinates": [[LON_MIN, lat], [LON_MAX, lat]]}
        features.append({"type": "Feature", "properties": {"kind": "road", "name": f"Rue {k + 1}"}, "geometry": road})
    features.append({"type": "Feature", "properties": {"kind": "park", "name": "Parc"},
                     "geometry": {"type": "Polygon", "coordinates": [[[2.33, 48.84], [2.34, 48.84], [2.34, 48.846],
                                                                      [2.33, 48.846], [2.33, 48.84]]]}})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}
