"""The MQTT side a baseline shares with Vigie: its broker address and its persistent session.

Before a baseline's consumer starts, its session is created here (MQTT 5.0 §3.1.2.4 Clean Start = 1,
then §3.8 SUBSCRIBE at QoS 1, then a normal DISCONNECT, §3.1.2.11.2 Session Expiry Interval > 0): from
the SUBACK on, the broker queues every frame for that client id, so nothing published between "the
benchmark starts" and "Node-RED has finished booting" is lost, and no guess is needed about when the
consumer's own SUBSCRIBE was processed. When the baseline is done its session is discarded (Clean Start
with a zero expiry), or the broker would go on queueing the whole benchmark's load for a client that
never comes back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

FRAME_TOPIC_FILTER = "vigie/v1/wearables/+/frame"
SESSION_EXPIRY_S = 3600
QOS = 1


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    host: str
    port: int
    username: str | None
    password: str | None


def _connect_properties(session_expiry_s: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves __init__ unannotated
    props.SessionExpiryInterval = session_expiry_s
    return props


def _session_client(broker: BrokerAccount, client_id: str, session_expiry_s: int, subscribe: bool,
                    timeout_s: float) -> None:  # fmt: skip
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    done = threading.Event()
    failure: list[str] = []

    def on_connect(client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, reason_code: ReasonCode,
                   properties: Properties | None) -> None:  # fmt: skip
        if reason_code.is_failure:
            failure.append(f"CONNECT refused: {reason_code}")
            done.set()
        elif subscribe:
            client.subscribe(FRAME_TOPIC_FILTER, qos=QOS)
        else:
            done.set()

    def on_subscribe(client: mqtt.Client, userdata: object, mid: int, reason_codes: list[ReasonCode],
                     properties: Properties | None) -> None:  # fmt: skip
        # A refused filter (e.g. the ACL) comes back as a failure reason code in the SUBACK (§3.9.3).
        failure.extend(f"SUBSCRIBE {FRAME_TOPIC_FILTER} refused: {code}" for code in reason_codes if code.is_failure)
        done.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.connect(broker.host, broker.port, clean_start=True, properties=_connect_properties(session_expiry_s))
    client.loop_start()
    try:
        if not done.wait(timeout_s):
            raise TimeoutError(f"MQTT session {client_id!r} not set up within {timeout_s:.0f} s "
                               f"on {broker.host}:{broker.port}")  # fmt: skip
        if failure:
            raise ConnectionError("; ".join(failure))
    finally:
        client.disconnect()
        client.loop_stop()


def open_session(broker: BrokerAccount, client_id: str, timeout_s: float = 10.0) -> None:
    """Create a fresh persistent session for ``client_id`` subscribed to every wearable frame at QoS 1."""
    _session_client(broker, client_id, SESSION_EXPIRY_S, subscribe=True, timeout_s=timeout_s)


def discard_session(broker: BrokerAccount, client_id: str, timeout_s: float = 10.0) -> None:
    """Drop ``client_id``'s session and everything queued for it (Clean Start, Session Expiry 0)."""
    _session_client(broker, client_id, 0, subscribe=False, timeout_s=timeout_s)
