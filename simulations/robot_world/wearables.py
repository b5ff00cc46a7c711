"""The workers of a robot world wear simulated wearables: one MQTT contract v1 frame per worker per second.

Frames are minimal but valid (``gateway/contract/frame.schema.json``): id, seq, time, GPS from the world
position placed around Paris (``services.geo.local_to_latlon``), heart rate, and one second of waist IMU whose shape
follows what the worker does: upright and still, a gait bounce when walking, and, in the second a scripted
fall happens, the free-fall dip, impact spike and lying-still pattern fall detectors key on (same timings as
``simulations.imu``), then gravity on a horizontal axis.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from services.geo import local_to_latlon
from simulations.crew import sequence_base
from simulations.imu import FALL_ONSET_S, FREE_FALL_S, G_MS2, IMPACT_S
from simulations.publisher import BrokerAddress, Message, MqttPublisher, frame_topic
from simulations.robot_world.world import FloatArray, Worker, WorkerState, World
from simulations.timebase import at, rfc3339_ms, utc_second

Frame = dict[str, Any]
PARIS_LAT, PARIS_LON = 48.8566, 2.3522


def worker_imu(worker: Worker, t_s: float, rate_hz: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """One second (ending at ``t_s``) of accelerometer (m/s²) and gyroscope (rad/s) samples, shape (rate_hz, 3)."""
    tau = np.arange(rate_hz) / rate_hz
    acc = np.tile([0.0, 0.0, G_MS2], (rate_hz, 1))
    gyr = np.zeros((rate_hz, 3))
    fell = worker.fell_at_s
    if worker.state is WorkerState.FALLEN and fell is not None and fell > t_s - 1.0:
        free = (tau >= FALL_ONSET_S) & (tau < FALL_ONSET_S + FREE_FALL_S)
        impact_start = FALL_ONSET_S + FREE_FALL_S
        impact = (tau >= impact_start) & (tau < impact_start + max(IMPACT_S, 2 / rate_hz))
        after = tau >= impact_start + max(IMPACT_S, 2 / rate_hz)
        acc[free] = [0.5, 0.3, 1.0]  # |a| ~1.2 m/s²: free fall
        gyr[free] = [math.pi / 2 / FREE_FALL_S, 0.0, 0.0]  # tumbling sideways
        acc[impact] = [0.0, 45.0, 5.0]  # ~4.6 g impact
        acc[after] = [0.0, G_MS2, 0.0]  # lying on the side
    elif worker.state is WorkerState.FALLEN:
        acc[:] = [0.0, G_MS2, 0.0]
    elif worker.moving_ms > 0:
        step = 2 * math.pi * 1.8 * tau
        acc += np.column_stack([0.8 * np.cos(step), 0.5 * np.sin(step / 2), 2.0 * np.sin(step)])
        gyr += np.column_stack([0.15 * np.sin(step / 2), 0.12 * np.sin(step), 0.3 * np.cos(step / 2)])
    elif worker.state is WorkerState.LIFTING:
        bend = 0.6 * 0.5 * (1 - np.cos(2 * math.pi * tau / 2.0))
        acc = np.column_stack([-G_MS2 * np.sin(bend), np.zeros(rate_hz), G_MS2 * np.cos(bend)])
    return acc + rng.normal(0, 0.02, acc.shape), gyr + rng.normal(0, 0.005, gyr.shape)


def worker_frames(world: World, start: datetime, *, rate_hz: int = 50) -> list[Frame]:
    """Contract v1 frames of every worker for the simulated second ending at ``world.t_s``."""
    t_s = world.t_s
    second = math.floor(t_s + 1e-9)
    rng = np.random.default_rng([world.seed, 0xB0D1, second])
    seq0 = sequence_base(utc_second(start))
    frames = []
    for k, w in enumerate(world.workers):
        lat, lon = local_to_latlon(PARIS_LAT, PARIS_LON, w.x_m, w.y_m)
        acc, gyr = worker_imu(w, t_s, rate_hz, rng)
        hr = 95.0 + 25.0 * (w.moving_ms > 0 or w.state is WorkerState.LIFTING) + 3.0 * k
        frames.append({
            "v": 1, "device_id": w.device_id, "seq": seq0 + second, "ts": rfc3339_ms(at(utc_second(start), second)),
            "gps": {"lat": round(float(lat), 7), "lon": round(float(lon), 7), "acc_m": 3.0},
            "hr_bpm": round(hr), "sos": False, "cancel": False,
            "imu": {"rate_hz": rate_hz, "acc_ms2": np.round(acc, 3).tolist(), "gyr_rads": np.round(gyr, 3).tolist()},
        })
    return frames


class WearableBridge:
    """Publishes the world's worker frames once per simulated second through the simulator's MQTT publisher."""

    def __init__(self, publisher: MqttPublisher, start: datetime) -> None:
        self._publisher = publisher
        self._start = start
        self._last_second = -1

    @classmethod
    def connect(cls, world: World, url: str, start: datetime | None = None) -> WearableBridge:
        ids = [w.device_id for w in world.workers]
        publisher = MqttPublisher(BrokerAddress.from_url(url), will_device_id=ids[0] if ids else None)
        publisher.connect()
        return cls(publisher, start or datetime.now(UTC))

    def publish_second(self, world: World) -> int:
        """Publish the frames of the latest whole simulated second, once; returns how many were sent."""
        second = math.floor(world.t_s + 1e-9)
        if second <= self._last_second:
            return 0
        self._last_second = second
        frames = worker_frames(world, self._start)
        for frame in frames:
            self._publisher.publish(Message(frame_topic(frame["device_id"]), orjson.dumps(frame)))
        return len(frames)

    def close(self) -> None:
        self._publisher.flush()
        self._publisher.close()
