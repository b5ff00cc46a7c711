"""``vigie ingest``: an ingest worker without the HTTP API (scale-out, docs/deployment.md).

MQTT → rules → TimescaleDB, the housekeeper and retention, exactly as inside ``vigie serve``, plus a small
HTTP listener for the orchestrator: ``/healthz`` (200 while connected and storing, 503 otherwise) and
``/metrics`` (Prometheus). Several workers share the stream by partition (``ingest_partitions``,
``ingest_partition``; see gateway/mqtt/client.py); the API runs apart (``vigie serve --no-ingest``).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.bootstrap import IngestRuntime, build_ingest
from gateway.db import migrations
from gateway.settings import Settings

log = logging.getLogger(__name__)


def _handler(runtime: IngestRuntime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest())
            elif self.path == "/healthz":
                checks = runtime.checks()
                ok = all(checks.values())
                body = json.dumps({"status": "ok" if ok else "degraded", "checks": checks}).encode()
                self._send(200 if ok else 503, "application/json", body)
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # a probe every few seconds would drown the log

    return Handler


class IngestProcess:
    """An ingest runtime and its health/metrics listener, started together and stopped together."""

    def __init__(self, settings: Settings, metrics_host: str, metrics_port: int) -> None:
        migrations.apply(settings.database_url)  # under an advisory lock: several workers may start at once
        self.settings = settings
        self.runtime = build_ingest(settings)
        self.server = ThreadingHTTPServer((metrics_host, metrics_port), _handler(self.runtime))
        self._listener = threading.Thread(target=self.server.serve_forever, name="vigie-ingest-http", daemon=True)

    def start(self) -> None:
        self.runtime.start()
        self._listener.start()
        host, port = self.server.server_address[:2]
        log.info("ingest partition %d of %d as %s; health and metrics on %s:%d", self.settings.ingest_partition,
                 self.settings.ingest_partitions, self.settings.mqtt_client_id, host, port)  # fmt: skip

    def stop(self) -> None:
        """Unacknowledged messages stay at the broker for the next start."""
        self.runtime.stop()
        self.server.shutdown()
        self.server.server_close()


def main(settings: Settings, metrics_host: str, metrics_port: int) -> int:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    process = IngestProcess(settings, metrics_host, metrics_port)
    process.start()
    try:
        stop.wait()
    finally:
        process.stop()
    return 0
