"""The walking skeleton end to end: ``vigie simulate`` → Mosquitto → gateway → TimescaleDB → alert.

The crew simulator runs as a user runs it (a subprocess of the ``vigie`` CLI). A tap on the broker
records when the SOS frame was published; the alert must be on the WebSocket and on REST within 1 s of it.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import time

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.conftest import Stack
from tests.helpers import wait_until
from tests.live import LiveAlerts

pytestmark = pytest.mark.e2e


def _tap(stack: Stack, out: queue.Queue[tuple[float, dict[str, object]]]) -> mqtt.Client:
    """Subscribe to every wearable frame (read-only monitor account) and note when each SOS frame passes."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    monitor = stack.endpoints["mqtt_credentials"]["monitor"]
    client.username_pw_set(monitor["username"], monitor["password"])

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if b'"sos":true' in msg.payload:
            out.put((time.monotonic(), orjson.loads(msg.payload)))

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe("vigie/v1/wearables/+/frame", qos=0)
    client.connect(stack.mqtt_host, stack.mqtt_port)
    client.loop_start()
    return client


def test_simulated_crew_sos_reaches_rest_and_websocket_within_one_second(stack):
    sos_seen: queue.Queue[tuple[float, dict[str, object]]] = queue.Queue()
    tap = _tap(stack, sos_seen)
    with LiveAlerts(stack.http_url, "sos", stack.token) as live:
        simulate = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "simulate", "--state-dir", str(stack.state_dir), "--agents", "8",
             "--robots", "2", "--duration", "8", "--speedup", "1", "--seed", "7", "--sos", "3@4"],
            check=False, capture_output=True, timeout=60,
        )  # fmt: skip
        assert simulate.returncode == 0, simulate.stderr.decode()[-2000:]
        published_at, sos_frame = sos_seen.get(timeout=5)
        raised_at, alert = live.next()
    tap.loop_stop()
    assert alert["rule"] == "sos" and alert["device_id"] == sos_frame["device_id"]
    assert alert["agent_id"] is not None  # the simulator seeded assignments through the API
    assert raised_at - published_at < 1.0
    rest = stack.http.get("/api/v1/alerts", params={"status": "open"}).json()["items"]
    assert alert["alert_id"] in {a["alert_id"] for a in rest}

    with psycopg.connect(stack.database_url) as conn:
        # Other e2e tests share this stack: count only the simulated crew (agent-0001 … agent-0008).
        stored = conn.execute("SELECT count(*), count(DISTINCT device_id) FROM frames"
                              " WHERE agent_id ~ '^agent-000[1-8]$'").fetchone()  # fmt: skip
        robots = conn.execute("SELECT count(DISTINCT robot_id) FROM robot_states"
                              " WHERE robot_id IN ('robot-01', 'robot-02')").fetchone()  # fmt: skip
    assert stored is not None and stored[1] == 8 and stored[0] >= 8 * 7
    assert robots is not None and robots[0] == 2
    agents = wait_until(lambda: stack.http.get("/api/v1/agents").json()["items"], 5)
    assert any(a["status"] == "alert" for a in agents)
