"""Wearable frames (MQTT contract v1, ``frame.schema.json``) for every agent, one simulated second at a time.

``CrewSimulator.frames_at(t_s)`` is pure with respect to ``t_s``: the hidden state (``agents.CrewModel``)
advances with its own random stream and each second's sensor noise comes from a generator keyed on
``(seed, t_s)``, so frame ``t`` is the same whether or not earlier frames were rendered, and a given
``--seed`` always replays the same shift.

``readings`` is what the wearables measure that second, as arrays (one row per agent and simulated day): the
frames are rendered from it, and ``simulations.history`` aggregates it into past days without rendering them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from services.geo import local_to_latlon
from simulations.agents import Activity, BoolArray, CrewModel, FloatArray, IntArray
from simulations.drift_model import NO_DRIFTS, Drifts
from simulations.imu import synthesise_imu
from simulations.incidents import Incidents
from simulations.roster import Roster
from simulations.timebase import SITE_TZ, SimDay, at, rfc3339_ms, utc_second

Frame = dict[str, Any]


def sequence_base(start: datetime) -> int:
    """First ``seq`` of a run: the start's Unix second, so a restarted simulator never reuses a seq.

    A gateway de-duplicating on (device_id, seq) would otherwise drop a second run's frames as replays.
    """
    return int(start.timestamp())


@dataclass(frozen=True, slots=True)
class Readings:
    """What every wearable measures in one second, one row per model row, as the frames carry it (rounded)."""

    hr_bpm: FloatArray
    laeq_db: FloatArray
    lcpeak_db: FloatArray
    temp_c: FloatArray
    rh_pct: FloatArray
    globe_c: FloatArray
    ahv_ms2: FloatArray
    trigger_s: FloatArray
    using_tool: BoolArray
    lifts: IntArray
    load_kg: FloatArray


def readings(m: CrewModel, t_s: int, rng: np.random.Generator) -> Readings:
    """The sensors' values for second ``t_s`` (the model already advanced to it), with that second's noise."""
    n = m.n
    temp_c = m.air_temp_c(t_s) + rng.normal(0, 0.3, n)
    rh_pct = m.rh_pct(t_s) + rng.normal(0, 1.0, n)
    globe_c = temp_c + m.radiant_c(t_s) * rng.uniform(0.3, 1.0, n)  # sun or shade
    trigger_s: FloatArray = np.where(rng.random(n) < 0.15, 0.0, rng.uniform(0.5, 1.0, n))  # trigger released
    ahv: FloatArray = np.maximum(m.tool_ahv_ms2 * (1 + 0.08 * rng.normal(0, 1, n)), 0.0)
    rh_pct = np.clip(rh_pct, 5.0, 100.0)
    return Readings(
        hr_bpm=np.round(m.hr_bpm), laeq_db=np.round(m.laeq_db, 1), lcpeak_db=np.round(m.lcpeak_db, 1),
        temp_c=np.round(temp_c, 1), rh_pct=np.round(rh_pct, 0), globe_c=np.round(globe_c, 1),
        ahv_ms2=np.round(ahv, 2), trigger_s=np.round(trigger_s, 2),
        using_tool=(m.activity == Activity.TOOL) & (trigger_s > 0), lifts=m.lift_count,
        load_kg=np.round(m.lift_load_kg, 1),
    )  # fmt: skip


def sensor_rng(seed: int, t_s: int) -> np.random.Generator:
    """Second ``t_s``'s sensor noise: its own stream, so the values do not depend on the IMU being rendered."""
    return np.random.default_rng([seed, 0x5E45, t_s])


class CrewSimulator:
    """Frames for every agent of ``roster`` from ``start`` (UTC, truncated to the second).

    ``day_index`` says which simulated day this is (calendar days after the run's day 0), so the agents have that
    day's form and the ``drifts`` injected by then.
    """

    def __init__(self, roster: Roster, *, seed: int, start: datetime, incidents: Incidents | None = None,
                 imu_rate_hz: float = 50.0, drifts: Drifts = NO_DRIFTS, day_index: int = 0) -> None:
        if not 20 <= imu_rate_hz <= 200:
            raise ValueError("imu_rate_hz must be within the contract's 20-200 Hz")
        self.roster = roster
        self.seed = seed
        self.start = utc_second(start)
        self.incidents = incidents or Incidents()
        self.imu_rate_hz = imu_rate_hz
        day = SimDay(day_index, self.start.astimezone(SITE_TZ).date(), self.start)
        self.model = CrewModel(roster, seed, [day], self.incidents, drifts)
        areas = [roster.crew(a.crew_id).area for a in roster.agents]
        self._lat0 = np.array([area.lat for area in areas])
        self._lon0 = np.array([area.lon for area in areas])
        self._has_globe = np.arange(len(roster.agents)) % 2 == 0  # half the fleet has the heat-stress kit
        self._seq0 = sequence_base(self.start)

    def frames_at(self, t_s: int) -> list[Frame]:
        """Frame payloads (JSON-ready dicts) of every agent for simulated second ``t_s`` >= 0."""
        return self._frames(t_s, imu_as_arrays=False)

    def encoded_frames_at(self, t_s: int) -> list[bytes]:
        """The same frames as UTF-8 JSON, ready to publish.

        IMU samples go to orjson as numpy arrays: building ~100 000 little Python lists per second for a
        thousand agents (and garbage-collecting them) would cost more than generating the signals.
        """
        return [orjson.dumps(frame, option=orjson.OPT_SERIALIZE_NUMPY)
                for frame in self._frames(t_s, imu_as_arrays=True)]

    def _frames(self, t_s: int, *, imu_as_arrays: bool) -> list[Frame]:
        if t_s < 0:
            raise ValueError("t_s must be >= 0")
        m = self.model
        m.advance_to(t_s)
        rng = np.random.default_rng([self.seed, 0xF4A3, t_s])
        acc, gyr = synthesise_imu(m, self.imu_rate_hz, rng)
        acc_rows: Any = np.round(acc, 3)
        gyr_rows: Any = np.round(gyr, 3)
        if not imu_as_arrays:
            acc_rows, gyr_rows = acc_rows.tolist(), gyr_rows.tolist()
        n = m.n
        r = readings(m, t_s, sensor_rng(self.seed, t_s))
        gps_err_m = rng.uniform(3, 8, n)
        lat, lon = local_to_latlon(
            self._lat0, self._lon0,
            m.pos_m[:, 0] + rng.normal(0, 1, n) * gps_err_m / 2,
            m.pos_m[:, 1] + rng.normal(0, 1, n) * gps_err_m / 2)
        battery = np.maximum(1.0, m.battery_start_pct - m.battery_drain_pct_s * t_s)
        riding_vib = np.where(m.truck_speed_ms() > 0, 1.0, 0.3) * (1 + 0.15 * rng.normal(0, 1, n))
        sos = np.zeros(n, dtype=bool)
        sos[self.incidents.sos_agents_at(t_s)] = True

        # Plain Python scalars: JSON Schema validators and orjson both want them, and rounding keeps frames small.
        cols = {
            "hr": r.hr_bpm.tolist(), "skin": np.round(m.skin_temp_c, 1).tolist(),
            "laeq": r.laeq_db.tolist(), "peak": r.lcpeak_db.tolist(), "temp": r.temp_c.tolist(),
            "rh": r.rh_pct.tolist(), "globe": r.globe_c.tolist(), "lat": np.round(lat, 6).tolist(),
            "lon": np.round(lon, 6).tolist(), "gps_acc": np.round(gps_err_m, 1).tolist(),
            "battery": np.round(battery, 2).tolist(), "ahv": r.ahv_ms2.tolist(), "trigger": r.trigger_s.tolist(),
            "lifts": r.lifts.tolist(), "load": r.load_kg.tolist(), "vib": np.maximum(riding_vib, 0).tolist(),
        }
        using_tool = r.using_tool
        tool_use, lifting = using_tool.tolist(), (m.lift_count > 0).tolist()
        riding, globe, sos_list = (m.activity == Activity.RIDING).tolist(), self._has_globe.tolist(), sos.tolist()
        ts = rfc3339_ms(at(self.start, t_s))
        rate = int(self.imu_rate_hz) if float(self.imu_rate_hz).is_integer() else self.imu_rate_hz
        frames: list[Frame] = []
        for k, agent in enumerate(self.roster.agents):
            env: dict[str, float] = {"temp_c": cols["temp"][k], "rh_pct": cols["rh"][k]}
            if globe[k]:
                env["globe_temp_c"] = cols["globe"][k]
            frame: Frame = {
                "v": 1, "device_id": agent.device_id, "seq": self._seq0 + t_s, "ts": ts,
                "imu": {"rate_hz": rate, "acc_ms2": acc_rows[k], "gyr_rads": gyr_rows[k]},
                "hr_bpm": cols["hr"][k], "skin_temp_c": cols["skin"][k],
                "noise": {"laeq_db": cols["laeq"][k], "lcpeak_db": cols["peak"][k]},
                "env": env,
                "gps": {"lat": cols["lat"][k], "lon": cols["lon"][k], "acc_m": cols["gps_acc"][k]},
                "battery_pct": cols["battery"][k], "sos": sos_list[k], "cancel": False,
            }
            if tool_use[k]:
                frame["hav"] = {"tool_id": agent.tool_id, "ahv_ms2": cols["ahv"][k], "trigger_s": cols["trigger"][k]}
            if lifting[k]:
                frame["lift"] = {"count": cols["lifts"][k], "load_kg": cols["load"][k]}
            if riding[k]:
                # Whole-body vibration on the rear step (ISO 2631-1 weighted r.m.s.; z dominates).
                vib = cols["vib"][k]
                frame["wbv"] = {"aw_ms2": [round(0.25 * vib, 3), round(0.2 * vib, 3), round(0.45 * vib, 3)],
                                "duration_s": 1.0}
            frames.append(frame)
        return frames
