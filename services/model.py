"""Domain records: what a wearable frame, a robot state and an alert *are*, independent of transport.

Frozen, slotted dataclasses built by the adapters (the gateway's codec builds them from MQTT payloads,
tests build them directly). Every quantity carries its unit in its name; every timestamp is a
timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Imu:
    """Raw inertial samples of one frame: ``acc_ms2`` and ``gyr_rads`` are (n, 3) arrays at ``rate_hz``."""

    rate_hz: float
    acc_ms2: FloatArray
    gyr_rads: FloatArray | None = None

    @property
    def n_samples(self) -> int:
        return int(self.acc_ms2.shape[0])

    def acc_norm_ms2(self) -> FloatArray:
        norm: FloatArray = np.linalg.norm(self.acc_ms2, axis=1).astype(np.float32)
        return norm


@dataclass(frozen=True, slots=True)
class Noise:
    """1-s A-weighted equivalent level (dB(A)) and C-weighted peak (dB(C)) from the dosimeter."""

    laeq_db: float
    lcpeak_db: float | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    temp_c: float
    rh_pct: float | None = None
    globe_temp_c: float | None = None


@dataclass(frozen=True, slots=True)
class HandArmVibration:
    """Frequency-weighted vibration total value a_hv (ISO 5349-1) while the tool trigger was held."""

    ahv_ms2: float
    trigger_s: float
    tool_id: str | None = None


@dataclass(frozen=True, slots=True)
class WholeBodyVibration:
    """Frequency-weighted r.m.s. acceleration per axis a_w (ISO 2631-1) over ``duration_s``."""

    aw_ms2: tuple[float, float, float]
    duration_s: float


@dataclass(frozen=True, slots=True)
class LiftGeometry:
    """Where the load was taken, for the NIOSH lifting equation (Waters et al. 1993), at the lift's origin.

    ``freq_per_min`` and ``duration_h`` describe the lifting task the lift belongs to.
    """

    h_cm: float
    v_cm: float
    d_cm: float
    a_deg: float
    coupling: str
    freq_per_min: float = 1.0
    duration_h: float = 2.0


@dataclass(frozen=True, slots=True)
class Lift:
    """``count`` lifts in this second, each of about ``load_kg`` (the mean when several)."""

    count: int
    load_kg: float
    geometry: LiftGeometry | None = None


@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lon: float
    acc_m: float | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """One second of a wearable's measurements (contract v1). ``ts`` is the start of the second."""

    device_id: str
    seq: int
    ts: datetime
    imu: Imu | None = None
    hr_bpm: float | None = None
    skin_temp_c: float | None = None
    noise: Noise | None = None
    env: Environment | None = None
    hav: HandArmVibration | None = None
    wbv: WholeBodyVibration | None = None
    lift: Lift | None = None
    gps: Position | None = None
    battery_pct: float | None = None
    sos: bool = False
    cancel: bool = False
    checkin: bool = False


@dataclass(frozen=True, slots=True)
class Pose:
    x_m: float
    y_m: float
    yaw_rad: float | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class RobotState:
    """A robot's state as its telemetry bridge reports it (contract v1)."""

    robot_id: str
    seq: int
    ts: datetime
    kind: str
    pose: Pose | None = None
    speed_ms: float | None = None
    battery_pct: float | None = None
    mode: str | None = None
    estop: bool | None = None
    protective_stop: bool | None = None
    nearest_human_m: float | None = None
    payload_kg: float | None = None
    faults: tuple[str, ...] = ()
    # A robot that follows a person and tells them apart (a follower and its collector) also reports the nearest
    # person other than its leader (None: nobody else); ``tracks_leader`` False: it does not, every person counts.
    tracks_leader: bool = False
    nearest_other_human_m: float | None = None


class DeviceLink(StrEnum):
    """The retained status a wearable publishes (``online``) and its Last Will (``offline``)."""

    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Assignment:
    """A device worn by an agent over ``[valid_from, valid_to)``; ``valid_to`` None means open-ended."""

    device_id: str
    agent_id: str
    valid_from: datetime
    valid_to: datetime | None = None

    def covers(self, ts: datetime) -> bool:
        return self.valid_from <= ts and (self.valid_to is None or ts < self.valid_to)


@dataclass(frozen=True, slots=True)
class Received:
    """A frame as the gateway received it: when, and under which assignment it was worn."""

    frame: Frame
    received_at: datetime
    agent_id: str | None
    late: bool = False
