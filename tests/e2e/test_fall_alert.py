"""A fall, streamed as a wearable streams it, becomes an alert on the live WebSocket within 1 s.

Two falls at once, paced in real time (frame k is published when its second is over): a synthetic fall,
always, and a real SisFall fall recording when the dataset is present beside the project
(``../shared/datasets/falls/sisfall_dev.npz``; see the README for SisFall). Latency is measured from the
publication of the frame holding the "fall suspected" decision to the alert on the WebSocket.
"""

from __future__ import annotations

import queue
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.live import LiveAlerts
from tests.unit.test_falls_support import fall

pytestmark = pytest.mark.e2e
SISFALL = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "falls" / "sisfall_dev.npz"
RATE_HZ = 50


def sisfall_fall() -> tuple[np.ndarray, np.ndarray] | None:
    """6 s either side of the impact of the first fall recording, or None without the dataset."""
    if not SISFALL.exists():
        return None
    data = np.load(SISFALL)
    trial = int(np.flatnonzero(data["is_fall"])[0])
    rows = data["data"][data["offsets"][trial] : data["offsets"][trial] + data["lengths"][trial]]
    impact = int(np.argmax(np.linalg.norm(rows[:, :3], axis=1)))
    start = max(0, impact - 6 * RATE_HZ)
    window = rows[start : start + 12 * RATE_HZ]
    return window[:, :3].astype(float), window[:, 3:].astype(float)


def frames(device: str, acc: np.ndarray, gyr: np.ndarray, t0: datetime) -> list[dict[str, Any]]:
    out = []
    for k in range(len(acc) // RATE_HZ):
        chunk = slice(k * RATE_HZ, (k + 1) * RATE_HZ)
        ts = (t0 + timedelta(seconds=k)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out.append({"v": 1, "device_id": device, "seq": k, "ts": ts,
                    "imu": {"rate_hz": RATE_HZ, "acc_ms2": np.round(acc[chunk], 3).tolist(),
                            "gyr_rads": np.round(gyr[chunk], 4).tolist()}})  # fmt: skip
    return out


def test_a_fall_reaches_the_live_websocket_within_a_second_of_the_decision(stack):
    synthetic = fall(RATE_HZ).acc_ms2()[3 * RATE_HZ :]  # walking from 5 s before the impact, then lying
    streams = {"wear-fall-syn": (synthetic, np.zeros_like(synthetic))}
    real = sisfall_fall()
    if real is not None:
        streams["wear-fall-sis"] = real
    for device in streams:
        stack.assign(device, device.replace("wear", "agent"), "Chute T.", "crew-09")
    with LiveAlerts(stack.http_url, "fall", stack.token) as live:
        t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        planned = {device: frames(device, acc, gyr, t0) for device, (acc, gyr) in streams.items()}
        published_at: dict[tuple[str, int], float] = {}
        for k in range(max(len(f) for f in planned.values())):
            end_of_second = (t0 + timedelta(seconds=k + 1) - datetime.now(UTC)).total_seconds()
            time.sleep(max(0.0, end_of_second))
            for device, stream in planned.items():
                if k < len(stream):
                    stack.publish_frame(stream[k])
                    published_at[(device, k)] = time.monotonic()
        got: dict[str, tuple[float, dict[str, Any]]] = {}
        deadline = time.monotonic() + 5
        while len(got) < len(streams) and time.monotonic() < deadline:
            try:
                at, alert = live.next(0.5)
            except queue.Empty:
                continue
            got[alert["device_id"]] = (at, alert)
    assert set(got) == set(streams), f"falls alerted: {sorted(got)} of {sorted(streams)}"
    for device, (at, alert) in got.items():
        decided = datetime.fromisoformat(alert["details"]["fall_suspected_ts"])
        frame_k = int((decided - t0).total_seconds())
        latency_s = at - published_at[(device, frame_k)]
        assert alert["severity"] == "warning" and not alert["late"]
        assert latency_s < 1.0, f"{device}: alert {latency_s:.2f} s after the deciding frame"
