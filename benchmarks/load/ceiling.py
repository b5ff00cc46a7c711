"""The ceiling: an MQTT consumer that does nothing with the frames, drained like every other consumer.

What the broker and the MQTT client alone can deliver on this machine, with the same frames, the same QoS 1
persistent session and the same paho-mqtt the gateway uses: ``on_message`` only counts (paho sends the PUBACK,
MQTT 5.0 §3.4, when it returns). No JSON, no database. Any consumer built on paho — Vigie included — drains at
most this fast here, so it bounds what a ratio against another consumer can be (issue 8's "≥ 5× Node-RED").
``--client gmqtt`` does the same with gmqtt (asyncio, PUBACK after the handler returns): the MQTT client is
chosen by measurement (issue 8), and this is the measurement of the alternative, on the same drain.
Run as a subprocess, as the baselines are, so its CPU is its own:

    python -m benchmarks.load.ceiling --mqtt-url mqtt://127.0.0.1:1883 --client-id bench-ceiling \
        --count-file /tmp/ceiling.count

The count is written to ``--count-file`` (replaced atomically) every 50 ms and at exit; the broker password, if
any, comes from ``VIGIE_MQTT_PASSWORD``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from benchmarks.baselines.session import FRAME_TOPIC_FILTER, QOS, SESSION_EXPIRY_S

log = logging.getLogger("benchmarks.load.ceiling")
READY_MARKER = "connected to the broker"
CLIENTS = ("paho", "gmqtt")
WRITE_EVERY_S = 0.05


class Counter:
    """Messages received; written to a file by a side thread so ``on_message`` stays a single increment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.received = 0
        self.stopping = threading.Event()

    def on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.received += 1

    def write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(str(self.received), encoding="ascii")
        tmp.replace(self.path)

    def keep_writing(self) -> None:
        while not self.stopping.wait(WRITE_EVERY_S):
            self.write()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """The count written every ``WRITE_EVERY_S`` while the block runs, and once more, final, after it."""
        writer = threading.Thread(target=self.keep_writing, name="count-writer", daemon=True)
        writer.start()
        try:
            yield
        finally:
            self.stopping.set()
            writer.join(1.0)
            self.write()
            log.info("stopped: %d frames received", self.received)


def read_count(path: Path) -> int:
    """What a running (or finished) ceiling consumer has received so far; 0 before its first write."""
    try:
        return int(path.read_text(encoding="ascii") or 0)
    except FileNotFoundError:
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.ceiling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--mqtt-url", required=True, help="mqtt://host:port of the broker")
    parser.add_argument("--mqtt-username", default=None, help="broker account (password: $VIGIE_MQTT_PASSWORD)")
    parser.add_argument("--client-id", required=True, help="MQTT client id of the persistent session")
    parser.add_argument("--count-file", type=Path, required=True, help="where the running count is written")
    parser.add_argument("--client", choices=CLIENTS, default="paho", help="the MQTT client library (default paho)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    url = urlsplit(args.mqtt_url)
    if url.scheme != "mqtt" or not url.hostname:
        raise SystemExit(f"--mqtt-url must be mqtt://host:port, not {args.mqtt_url!r}")
    counter = Counter(args.count_file)
    if args.client == "gmqtt":
        return _run_gmqtt(url.hostname, url.port or 1883, args, counter)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=args.client_id, protocol=mqtt.MQTTv5)
    if args.mqtt_username:
        client.username_pw_set(args.mqtt_username, os.environ.get("VIGIE_MQTT_PASSWORD"))

    def on_connect(client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, reason_code: ReasonCode,
                   properties: Properties | None) -> None:  # fmt: skip
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        log.info("%s (session present: %s)", READY_MARKER, flags.session_present)
        client.subscribe(FRAME_TOPIC_FILTER, qos=QOS)

    def stop(signum: int, frame: FrameType | None) -> None:
        client.disconnect()  # reason 0: the session and its queue stay (MQTT 5.0 §3.14.2.1)

    client.on_connect = on_connect
    client.on_message = counter.on_message
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves __init__ unannotated
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    with counter.writing():
        client.connect(url.hostname, url.port or 1883, clean_start=False, properties=props)
        client.loop_forever()
    return 0


def _run_gmqtt(host: str, port: int, args: argparse.Namespace, counter: Counter) -> int:
    import gmqtt  # type: ignore[import-untyped]  # benchmark-only dependency, no type information

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        # Not optimistic: the PUBACK leaves when the handler has returned, as paho's does.
        client = gmqtt.Client(args.client_id, clean_session=False, optimistic_acknowledgement=False,
                              session_expiry_interval=SESSION_EXPIRY_S)  # fmt: skip

        # A coroutine: gmqtt sends a non-optimistic PUBACK only for coroutine handlers (a plain function's
        # result is dropped and the message never acknowledged), so this is what an ack-after-commit consumer pays.
        async def on_message(client: object, topic: str, payload: bytes, qos: int, properties: object) -> int:
            counter.received += 1
            return 0  # PUBACK reason code: success

        client.on_message = on_message
        if args.mqtt_username:
            client.set_auth_credentials(args.mqtt_username, os.environ.get("VIGIE_MQTT_PASSWORD"))
        await client.connect(host, port)
        log.info("%s (gmqtt)", READY_MARKER)
        client.subscribe(FRAME_TOPIC_FILTER, qos=QOS)
        await stop.wait()
        await client.disconnect()

    with counter.writing():
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
