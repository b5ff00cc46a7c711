"""The one place where Vigie's parts are wired together from a ``Settings`` object."""

from __future__ import annotations

import queue
from dataclasses import dataclass

import psycopg

from gateway.housekeeping import Housekeeper, RetentionKeeper
from gateway.ingest import IngestWorker
from gateway.mqtt.client import RECEIVE_MAXIMUM, Incoming, IngestClient
from gateway.settings import Settings


@dataclass
class IngestRuntime:
    """An MQTT ingest client, its worker thread (one bounded inbox), the housekeeper and the retention keeper."""

    inbox: queue.Queue[Incoming]
    client: IngestClient
    worker: IngestWorker
    housekeeper: Housekeeper
    retention: RetentionKeeper

    def start(self) -> None:
        self.worker.start()
        self.client.start()
        self.housekeeper.start()
        self.retention.start()

    def checks(self) -> dict[str, bool]:
        """This process's ingest health: connected to the broker, and storing (or nothing waiting to be stored)."""
        worker = self.worker
        return {"mqtt": self.client.connected.is_set(),
                "ingest": worker.is_alive() and (worker.db_ok.is_set() or self.inbox.empty())}  # fmt: skip

    def stop(self, timeout_s: float = 10.0) -> None:
        # Stop receiving first, then let the worker finish the batch in hand; unacknowledged messages
        # stay at the broker for the next start.
        self.housekeeper.stopping.set()
        self.retention.stopping.set()  # a pass in progress stops at its next slice or batch
        self.client.stop()
        self.worker.stopping.set()
        self.worker.join(timeout_s)
        self.housekeeper.join(timeout_s)
        self.retention.join(timeout_s)


def build_ingest(settings: Settings) -> IngestRuntime:
    inbox: queue.Queue[Incoming] = queue.Queue(maxsize=max(settings.ingest_queue_max, 2 * RECEIVE_MAXIMUM))
    client = IngestClient(settings, inbox)

    def connect() -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(settings.database_url, connect_timeout=5)

    worker = IngestWorker(settings, inbox, client.ack, connect)
    return IngestRuntime(inbox, client, worker, Housekeeper(settings, connect, client.publish),
                         RetentionKeeper(settings, connect))  # fmt: skip
