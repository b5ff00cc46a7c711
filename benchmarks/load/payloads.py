"""Pre-generated contract v1 payloads whose ``seq`` and ``ts`` are patched in place, never re-serialised.

The load generator shares two cores with the broker, the database and the gateway it measures, so a frame
costs it one ``bytes.join``: each device's full frame (50 Hz IMU, every section filled) is serialised once
with orjson around fixed-width placeholders for ``seq`` (13 digits: 10¹² + the Unix second) and ``ts``
(RFC 3339 with milliseconds, always 24 characters), then split at them.

The IMU is a walking wearer (a 2 Hz step, periodic over the second, so repeating it shows no seam): enough
motion that the man-down timer never fires, no free fall or impact for the fall detector to take for a fall.
The other sections stay well inside every rule's limits, so the only alerts of a run are its probes' SOS.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any

import orjson

IMU_RATE_HZ = 50
SEQ_BASE = 10**12  # + Unix second (wearables) or + tenth of a second (robots): fixed width for a century
_SEQ_PLACEHOLDER = SEQ_BASE
_TS_PLACEHOLDER = "2000-01-01T00:00:00.000Z"
_SEQ_WIDTH = 13
_ROBOT_SEQ_WIDTH = 14
G_MS2 = 9.80665


def rfc3339_ms(t_s: float) -> str:
    """``2026-11-26T08:15:02.500Z`` for Unix time ``t_s`` (UTC, milliseconds): always 24 characters."""
    whole = math.floor(t_s)
    ms = min(999, round((t_s - whole) * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{ms:03d}Z"


def wearable_seq(second: int) -> int:
    """The frame of Unix second ``second``: increasing with ``ts`` across runs, so it never repeats."""
    return SEQ_BASE + second


def robot_seq(tenth: int) -> int:
    return 10 * SEQ_BASE + tenth


@functools.cache
def walking_imu(phase: float, rate_hz: int = IMU_RATE_HZ) -> tuple[list[list[float]], list[list[float]]]:
    """One second of a walking wearer's waist IMU (m/s², rad/s): gravity on z, a 2 Hz step, a little sway."""
    acc, gyr = [], []
    for k in range(rate_hz):
        w = 2 * math.pi * (k / rate_hz + phase)
        acc.append([round(0.6 * math.sin(w), 3), round(0.4 * math.cos(2 * w), 3),
                    round(G_MS2 + 2.0 * math.sin(2 * w), 3)])  # fmt: skip
        gyr.append([round(0.15 * math.cos(w), 3), round(0.05 * math.sin(2 * w), 3), round(0.1 * math.sin(w), 3)])
    return acc, gyr


def wearable_frame(device_id: str, index: int, *, seq: int = _SEQ_PLACEHOLDER, ts: str = _TS_PLACEHOLDER,
                   sos: bool = False) -> dict[str, Any]:  # fmt: skip
    """A full frame (every contract section) for device number ``index``, all values inside every rule's limits."""
    acc, gyr = walking_imu((index % 17) / 17)
    return {
        "v": 1, "device_id": device_id, "seq": seq, "ts": ts,
        "imu": {"rate_hz": IMU_RATE_HZ, "acc_ms2": acc, "gyr_rads": gyr},
        "hr_bpm": 82 + index % 20, "skin_temp_c": 33.5,
        "noise": {"laeq_db": 68.5, "lcpeak_db": 101.0},
        "env": {"temp_c": 18.5, "rh_pct": 55, "globe_temp_c": 20.0},
        "hav": {"tool_id": "trimmer-3", "ahv_ms2": 2.5, "trigger_s": 0.5},
        "wbv": {"aw_ms2": [0.11, 0.09, 0.21], "duration_s": 1.0},
        "lift": {"count": 0, "load_kg": 0.0},
        "gps": {"lat": round(48.85 + (index % 100) * 1e-4, 6), "lon": round(2.35 + (index // 100 % 100) * 1e-4, 6),
                "acc_m": 4.0},
        "battery_pct": 81, "sos": sos, "cancel": False,
    }  # fmt: skip


def robot_state(robot_id: str, index: int, *, seq: int = _SEQ_PLACEHOLDER * 10, ts: str = _TS_PLACEHOLDER
                ) -> dict[str, Any]:  # fmt: skip
    """A robot state (contract v1) a kilometre from the wearables: no separation rule, no incident link."""
    return {
        "v": 1, "robot_id": robot_id, "seq": seq, "ts": ts, "kind": "follower",
        "pose": {"x_m": 12.5 + index, "y_m": -3.0, "yaw_rad": 1.2, "lat": 48.86 + index * 1e-4, "lon": 2.37},
        "speed_ms": 0.8, "battery_pct": 77, "mode": "follow", "estop": False, "protective_stop": False,
        "nearest_human_m": None, "payload_kg": 20.0, "faults": [],
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Template:
    """A serialised payload cut around its ``seq`` and ``ts`` placeholders."""

    before_seq: bytes
    between: bytes
    after_ts: bytes
    seq_width: int

    @classmethod
    def of(cls, payload: bytes, seq_placeholder: int, seq_width: int) -> Template:
        seq_token = b'"seq":' + str(seq_placeholder).encode()
        ts_token = b'"ts":"' + _TS_PLACEHOLDER.encode() + b'"'
        i, j = payload.index(seq_token), payload.index(ts_token)
        if payload.count(seq_token) != 1 or payload.count(ts_token) != 1 or j < i:
            raise ValueError("the template needs exactly one seq placeholder followed by one ts placeholder")
        seq_at = i + len(b'"seq":')
        ts_at = j + len(b'"ts":"')
        return cls(payload[:seq_at], payload[seq_at + seq_width:ts_at], payload[ts_at + 24:], seq_width)

    def render(self, seq: int, ts: bytes) -> bytes:
        """The payload for ``seq`` and ``ts`` (24 ASCII bytes, from :func:`rfc3339_ms`)."""
        digits = str(seq).encode()
        if len(digits) != self.seq_width or len(ts) != 24:
            raise ValueError(f"seq {seq} or ts {ts!r} does not fit the template's fixed widths")
        return b"".join((self.before_seq, digits, self.between, ts, self.after_ts))


def wearable_template(device_id: str, index: int) -> Template:
    return Template.of(orjson.dumps(wearable_frame(device_id, index)), _SEQ_PLACEHOLDER, _SEQ_WIDTH)


def robot_template(robot_id: str, index: int) -> Template:
    return Template.of(orjson.dumps(robot_state(robot_id, index)), _SEQ_PLACEHOLDER * 10, _ROBOT_SEQ_WIDTH)


def sos_frame(device_id: str, index: int, second: int) -> bytes:
    """The probe: the same frame with the SOS button pressed (serialised afresh; probes are rare)."""
    return orjson.dumps(wearable_frame(device_id, index, seq=wearable_seq(second), ts=rfc3339_ms(second),
                                       sos=True))  # fmt: skip


def device_id(index: int) -> str:
    return f"bench-w{index:05d}"


def robot_id(index: int) -> str:
    return f"bench-r{index:03d}"


def agent_id(index: int) -> str:
    return f"bench-a{index:05d}"


def frame_topic(device: str) -> str:
    return f"vigie/v1/wearables/{device}/frame"


def robot_topic(robot: str) -> str:
    return f"vigie/v1/robots/{robot}/state"
