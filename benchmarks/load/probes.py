"""End-to-end alert latency: an SOS frame published → its ``alert.raised`` received on ``WS /api/v1/live``.

Both ends read the same machine clock (``time.time()``), the publisher just before handing the frame to paho,
this listener as soon as the message is read off the socket. The live feed also carries large coalesced
``agents.changed`` messages every second; they are skipped without being parsed.
"""

from __future__ import annotations

import logging
import threading
import time

import orjson
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

log = logging.getLogger(__name__)
_RAISED = b'"type":"alert.raised"'


class AlertListener(threading.Thread):
    """Keeps one authenticated live-feed connection and timestamps every ``alert.raised`` by device."""

    def __init__(self, ws_url: str, token: str) -> None:
        super().__init__(name="bench-alerts", daemon=True)
        self.ws_url = ws_url
        self.token = token
        self.received: dict[str, float] = {}  # device_id -> first alert.raised receive time
        self.rules: dict[str, str] = {}
        self.messages = 0
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._listen()
            except (OSError, ConnectionClosed) as exc:
                if self.stopping.is_set():
                    return
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("live feed lost (%s); reconnecting", exc)
                time.sleep(0.5)

    def _listen(self) -> None:
        with connect(self.ws_url, max_size=None, open_timeout=10, proxy=None) as ws:
            ws.send(orjson.dumps({"type": "auth", "token": self.token}).decode())
            hello = orjson.loads(ws.recv(timeout=10))
            if hello.get("type") != "hello":
                raise OSError(f"live feed refused the token: {hello}")
            self.ready.set()
            while not self.stopping.is_set():
                try:
                    text = ws.recv(timeout=0.5, decode=False)
                except TimeoutError:
                    continue
                at = time.time()
                self.messages += 1
                if _RAISED not in text[:64]:
                    continue
                alert = orjson.loads(text)["alert"]
                device = alert.get("device_id")
                if device and device not in self.received:
                    self.received[device] = at
                    self.rules[device] = alert.get("rule", "")

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)


def latencies_ms(published: list[tuple[str, float]], received: dict[str, float]) -> tuple[list[float], list[str]]:
    """Latency of each probe whose alert arrived (ms), and the devices whose alert never did."""
    got, missing = [], []
    for device, at in published:
        if device in received:
            got.append((received[device] - at) * 1000)
        else:
            missing.append(device)
    return got, missing
