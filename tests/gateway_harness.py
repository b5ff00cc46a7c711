"""A real gateway (FastAPI + MQTT ingest) in a thread, and a QoS 1 publisher, for tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
import uvicorn
from paho.mqtt.enums import CallbackAPIVersion

from gateway.api.app import create_app
from gateway.auth.tokens import issue_jwt
from gateway.runtime.ports import free_port
from gateway.settings import Settings
from services.access import Principal, Role


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Publisher:
    """A device-side MQTT client that publishes at QoS 1 and waits for each PUBACK."""

    def __init__(self, host: str, port: int, username: str | None = None, password: str | None = None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(host, port)
        self.client.loop_start()

    def raw(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def frame(self, payload: dict[str, Any]) -> None:
        self.raw(f"vigie/v1/wearables/{payload['device_id']}/frame", orjson.dumps(payload))

    def robot(self, payload: dict[str, Any]) -> None:
        self.raw(f"vigie/v1/robots/{payload['robot_id']}/state", orjson.dumps(payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class RunningGateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http_url = f"http://127.0.0.1:{settings.http_port}"
        self.token = self.token_for(Principal("test-admin", Role.ADMIN))
        self.http = httpx.Client(base_url=self.http_url, timeout=10, headers={"Authorization": f"Bearer {self.token}"})
        self.ws_url = f"ws://127.0.0.1:{settings.http_port}/api/v1/live"

    def token_for(self, principal: Principal) -> str:
        """A bearer token as /api/v1/auth/token would issue it, for any principal a test needs."""
        return issue_jwt(principal, self.settings.jwt_secret_value, datetime.now(UTC), 3600)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def assign(self, device_id: str, agent_id: str, display_name: str = "Agent", crew_id: str = "crew-01",
               valid_from: str = "2026-01-01T00:00:00Z") -> None:  # fmt: skip
        self.http.put(f"/api/v1/agents/{agent_id}", json={"display_name": display_name, "crew_id": crew_id}
                      ).raise_for_status()  # fmt: skip
        response = self.http.post("/api/v1/assignments", json={"device_id": device_id, "agent_id": agent_id,
                                                               "valid_from": valid_from})  # fmt: skip
        assert response.status_code in (201, 409), response.text


@contextmanager
def running_gateway(mqtt_url: str, database_url: str, **overrides: Any) -> Iterator[RunningGateway]:
    values: dict[str, Any] = {"mqtt_client_id": f"vigie-test-{uuid.uuid4().hex[:8]}", "mode": "demo", **overrides}
    settings = Settings(mqtt_url=mqtt_url, database_url=database_url, http_port=free_port(), **values)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.http_port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    gateway = RunningGateway(settings)
    deadline = time.monotonic() + 20
    while True:
        try:
            if gateway.http.get("/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("gateway did not become healthy")
        time.sleep(0.05)
    try:
        yield gateway
    finally:
        server.should_exit = True
        thread.join(15)
        gateway.http.close()
