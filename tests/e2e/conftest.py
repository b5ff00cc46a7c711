"""The whole stack as a user starts it: ``vigie up`` in a subprocess, on its own state directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.gateway_harness import Publisher
from tests.helpers import WAIT_SLACK

# Playwright's assertions retry for 5 s by default, sized for a quiet machine; on a loaded CI machine they get the
# same slack as every other wait (tests/helpers.py). An assertion still passes as soon as the page agrees; the
# explicit, shorter timeouts some tests give (a live update within 2 s) are left as they are: they are the point.
expect.set_options(timeout=int(5_000 * WAIT_SLACK))


class Stack:
    def __init__(self, state_dir: Path, endpoints: dict[str, Any], process: subprocess.Popen[bytes]) -> None:
        self.state_dir = state_dir
        self.process = process
        self.endpoints = endpoints
        self.http_url: str = endpoints["http_url"]
        self.token: str = endpoints["admin_token"]
        self.mqtt_host: str = endpoints["mqtt_host"]
        self.mqtt_port: int = endpoints["mqtt_port"]
        self.database_url: str = endpoints["database_url"]
        # The broker of `vigie up` refuses anonymous clients; tests publish with the simulator's fleet account.
        account = endpoints["mqtt_credentials"]["simulator"]
        self.mqtt_login: tuple[str, str] = (account["username"], account["password"])
        self.http = httpx.Client(base_url=self.http_url, timeout=10,
                                 headers={"Authorization": f"Bearer {self.token}"})  # fmt: skip
        self._publisher = self.publisher()

    def publisher(self) -> Publisher:
        """A new MQTT client on the stack's broker, logged in with the fleet account; close it after use."""
        return Publisher(self.mqtt_host, self.mqtt_port, *self.mqtt_login)

    def publish_frame(self, payload: dict[str, Any]) -> None:
        self._publisher.frame(payload)

    def assign(self, device_id: str, agent_id: str, display_name: str, crew_id: str) -> None:
        self.http.put(f"/api/v1/agents/{agent_id}", json={"display_name": display_name, "crew_id": crew_id}
                      ).raise_for_status()  # fmt: skip
        response = self.http.post("/api/v1/assignments", json={
            "device_id": device_id, "agent_id": agent_id, "valid_from": "2026-01-01T00:00:00Z"})  # fmt: skip
        assert response.status_code in (201, 409), response.text

    def close(self) -> None:
        self._publisher.close()
        self.http.close()


def start_stack(state_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Run ``vigie up`` and wait for it to write its endpoints and answer /healthz."""
    log = (state_dir / "vigie-up.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "up", "--state-dir", str(state_dir), *extra],
                               stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))  # fmt: skip
    deadline = time.monotonic() + 60
    endpoints_file = state_dir / "endpoints.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vigie up exited: {(state_dir / 'vigie-up.log').read_text()[-3000:]}")
        if endpoints_file.exists():
            endpoints: dict[str, Any] = json.loads(endpoints_file.read_text())
            try:
                if httpx.get(endpoints["http_url"] + "/healthz", timeout=1).status_code == 200:
                    return process, endpoints
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("vigie up did not become healthy within 60 s")


def stop_stack(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    # Not under pytest's 0700 tmp dirs: PostgreSQL runs as `postgres` when the tests run as root.
    base = Path(tempfile.mkdtemp(prefix="vigie-e2e-"))
    base.chmod(0o711)
    yield base


@pytest.fixture(scope="session")
def stack(stack_dir: Path) -> Iterator[Stack]:
    """``vigie up --no-simulator``: broker, database, gateway and dashboard, as a user starts them."""
    state_dir = stack_dir / "state"
    state_dir.mkdir()
    process, endpoints = start_stack(state_dir, "--no-simulator")
    running = Stack(state_dir, endpoints, process)
    try:
        yield running
    finally:
        running.close()
        stop_stack(process)
