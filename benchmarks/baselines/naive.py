"""The naive Python baseline: what a first version of "store the frames and check for falls" looks like.

paho-mqtt 2.x (MQTT 5, QoS 1, persistent session), and in ``on_message``: ``json.loads``, plain Python
loops over the IMU samples (magnitude of each sample, its peak and minimum, a free-fall-then-impact
threshold check), and one ``INSERT`` committed per message with psycopg: no batching, no ``COPY``, no
numpy. paho acknowledges a QoS 1 message (PUBACK, MQTT 5.0 §3.4) only after ``on_message`` returns, so
this baseline loses nothing; it is just slow. Vigie's load benchmark runs it as a subprocess:

    python -m benchmarks.baselines.naive --mqtt-url mqtt://127.0.0.1:1883 --database-url postgresql://... \
        --table baseline_naive_frames --client-id baseline-naive

The broker password, if any, comes from the environment (``VIGIE_MQTT_PASSWORD``), not the command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from psycopg import sql
from psycopg.types.json import Jsonb

from benchmarks.baselines.session import FRAME_TOPIC_FILTER, QOS, SESSION_EXPIRY_S
from benchmarks.baselines.table import COLUMNS, checked_table_name

log = logging.getLogger("benchmarks.baselines.naive")

READY_MARKER = "connected to the broker"
G_MS2 = 9.80665
# The textbook two-threshold detector (free fall below 0.6 g, then an impact above 2.5 g within the
# second), as in the early accelerometer fall-detection literature: crude, but what a first version does.
FREE_FALL_MS2 = 0.6 * G_MS2
IMPACT_MS2 = 2.5 * G_MS2


def analyse_imu(acc_ms2: list[list[float]]) -> tuple[float | None, float | None, bool]:
    """Peak and minimum acceleration magnitude (m/s²) of one second of samples, and a naive fall flag."""
    peak: float | None = None
    low: float | None = None
    free_fall_seen = False
    fall = False
    for sample in acc_ms2:
        x, y, z = sample
        magnitude = math.sqrt(x * x + y * y + z * z)
        if peak is None or magnitude > peak:
            peak = magnitude
        if low is None or magnitude < low:
            low = magnitude
        if magnitude < FREE_FALL_MS2:
            free_fall_seen = True
        elif free_fall_seen and magnitude > IMPACT_MS2:
            fall = True
    return peak, low, fall


def row_of(frame: dict[str, Any]) -> tuple[Any, ...]:
    """The table row (in ``table.COLUMNS`` order) of one decoded frame."""
    noise = frame.get("noise") or {}
    air = frame.get("env") or {}
    hav = frame.get("hav") or {}
    wbv = frame.get("wbv") or {}
    lift = frame.get("lift") or {}
    gps = frame.get("gps") or {}
    imu = frame.get("imu")
    peak, low, fall = analyse_imu(imu.get("acc_ms2") or []) if imu else (None, None, False)
    return (
        frame["device_id"], frame["seq"], frame["ts"], frame.get("hr_bpm"), frame.get("skin_temp_c"),
        noise.get("laeq_db"), noise.get("lcpeak_db"), air.get("temp_c"), air.get("rh_pct"), air.get("globe_temp_c"),
        hav.get("tool_id"), hav.get("ahv_ms2"), hav.get("trigger_s"), wbv.get("aw_ms2"), lift.get("count"),
        lift.get("load_kg"), gps.get("lat"), gps.get("lon"), gps.get("acc_m"), frame.get("battery_pct"),
        frame.get("sos"), frame.get("cancel"), Jsonb(imu) if imu is not None else None, peak, low, fall,
    )  # fmt: skip


class NaiveConsumer:
    """One MQTT client and one database connection; every message is handled to the end in ``on_message``."""

    def __init__(self, conn: psycopg.Connection[Any], table: str) -> None:
        self.conn = conn
        self.insert = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (device_id, seq) DO NOTHING").format(
            sql.Identifier(checked_table_name(table)),
            sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
            sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
        )
        self.stored = 0
        self.rejected = 0

    def on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, reason_code: ReasonCode,
                   properties: Properties | None) -> None:  # fmt: skip
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        log.info("%s (session present: %s)", READY_MARKER, flags.session_present)
        client.subscribe(FRAME_TOPIC_FILTER, qos=QOS)  # in on_connect, so a reconnect resubscribes

    def on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes: list[ReasonCode],
                     properties: Properties | None) -> None:  # fmt: skip
        log.info("subscribed to %s: %s", FRAME_TOPIC_FILTER, ", ".join(str(code) for code in reason_codes))

    def on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            frame = json.loads(message.payload)
            self.conn.execute(self.insert, row_of(frame))
            self.conn.commit()
            self.stored += 1
        except (ValueError, KeyError, TypeError, psycopg.DataError, psycopg.IntegrityError) as exc:
            # A bad frame is logged and skipped; it must not kill the client (nor block the session).
            self.conn.rollback()
            self.rejected += 1
            log.warning("frame on %s rejected: %s", message.topic, str(exc)[:200])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baselines.naive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--mqtt-url", required=True, help="mqtt://host:port of the broker")
    parser.add_argument("--mqtt-username", default=None, help="broker account (password: $VIGIE_MQTT_PASSWORD)")
    parser.add_argument("--database-url", required=True, help="libpq URL of the database holding --table")
    parser.add_argument("--table", required=True, help="table created by benchmarks.baselines.table")
    parser.add_argument("--client-id", required=True, help="MQTT client id of the persistent session")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    url = urlsplit(args.mqtt_url)
    if url.scheme != "mqtt" or not url.hostname:
        raise SystemExit(f"--mqtt-url must be mqtt://host:port, not {args.mqtt_url!r}")
    with psycopg.connect(args.database_url) as conn:
        consumer = NaiveConsumer(conn, args.table)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=args.client_id, protocol=mqtt.MQTTv5)
        if args.mqtt_username:
            client.username_pw_set(args.mqtt_username, os.environ.get("VIGIE_MQTT_PASSWORD"))
        client.on_connect = consumer.on_connect
        client.on_subscribe = consumer.on_subscribe
        client.on_message = consumer.on_message

        def stop(signum: int, frame: FrameType | None) -> None:
            # A normal DISCONNECT (reason 0) keeps the session and its queue (MQTT 5.0 §3.14.2.1).
            client.disconnect()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves __init__ unannotated
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        client.connect(url.hostname, url.port or 1883, clean_start=False, properties=props)
        client.loop_forever()
        log.info("stopped: %d frames stored, %d rejected", consumer.stored, consumer.rejected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
