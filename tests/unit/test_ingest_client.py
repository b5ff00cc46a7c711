"""The ingest client's inbox: a full queue holds the broker back rather than dropping a message."""

from __future__ import annotations

import queue
import threading
from types import SimpleNamespace

from gateway.mqtt.client import Incoming, IngestClient
from gateway.settings import Settings


def test_a_full_inbox_blocks_the_network_thread_until_the_worker_makes_room_and_loses_nothing() -> None:
    inbox: queue.Queue[Incoming] = queue.Queue(maxsize=1)
    client = IngestClient(Settings(mode="demo"), inbox)
    messages = [SimpleNamespace(topic="vigie/v1/wearables/w1/frame", payload=b"{}", mid=mid, qos=1)
                for mid in (1, 2)]  # fmt: skip
    sender = threading.Thread(target=lambda: [client._on_message(None, None, m) for m in messages])  # type: ignore[arg-type]
    sender.start()
    sender.join(0.3)
    assert sender.is_alive()  # held back on the second message: the socket is not read meanwhile
    assert client.backpressure == 1
    assert inbox.get(timeout=1).mid == 1
    sender.join(2)
    assert not sender.is_alive()
    assert inbox.get(timeout=1).mid == 2 and inbox.empty()
