"""A test's view of ``WS /api/v1/live``: raised alerts of one rule, with the time each arrived."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import orjson
from websockets.sync.client import connect as ws_connect


class LiveAlerts:
    """Connects, waits for the greeting, then queues ``(monotonic time, alert)`` of each raised ``rule``."""

    def __init__(self, http_url: str, rule: str, token: str) -> None:
        self.token = token
        self.url = http_url.replace("http", "ws", 1) + "/api/v1/live"
        self.rule = rule
        self.alerts: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self._ready, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> LiveAlerts:
        self._thread.start()
        assert self._ready.wait(5), "the live WebSocket did not greet"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)

    def next(self, timeout_s: float = 5.0) -> tuple[float, dict[str, Any]]:
        return self.alerts.get(timeout=timeout_s)

    def _watch(self) -> None:
        with ws_connect(self.url, open_timeout=5) as ws:
            ws.send(orjson.dumps({"type": "auth", "token": self.token}).decode())
            assert orjson.loads(ws.recv(timeout=5))["type"] == "hello"
            self._ready.set()
            while not self._stop.is_set():
                try:
                    message = orjson.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                if message["type"] == "alert.raised" and message["alert"]["rule"] == self.rule:
                    self.alerts.put((time.monotonic(), message["alert"]))
