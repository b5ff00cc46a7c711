"""A minimal MQTT 5 publisher over a plain socket, made for the load generator and nothing else.

paho spends ~200-290 µs of CPU per 2.5 KB QoS 1 message here: at 11,000 messages/s the generator alone would
eat the CPU the gateway under test needs. This client does only what the benchmark does: CONNECT (clean start,
username/password), QoS 1 PUBLISH from packets pre-encoded around the pre-generated payloads
(:mod:`benchmarks.load.payloads`), sent in batches with one ``sendall``, and PUBACK/PINGRESP/DISCONNECT read
without a thread (non-blocking reads after each batch, a ``poll`` only when the in-flight window is full).
Byte layouts follow OASIS MQTT Version 5.0 (07 March 2019): §1.5.5 Variable Byte Integer, §2.2.2 properties,
§3.1 CONNECT, §3.2 CONNACK, §3.3 PUBLISH, §3.4 PUBACK, §3.12-3.14 PINGREQ/PINGRESP/DISCONNECT, §4.9 flow
control (Receive Maximum).

Measured here (``python -m benchmarks.load.publisher_cost``: 20,000 pre-generated 2.5 KB frames, QoS 1, to a
private Mosquitto 2.0.11 with a paho subscriber draining; 2 cores shared with the broker and subscriber):
paho 1,745 msg/s at 0.385 CPU s per 1,000 messages, raw 32,947 msg/s at 0.0065 s: 18.9× the rate for 1/59 of
the CPU (2 rounds each, load average ~2.9 from other work on the machine, so paho's absolute figure is worse here
than the ~200-290 µs/message it costs on an idle one; the ratio is the point).
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from benchmarks.load.payloads import Template

CONNECT, CONNACK, PUBLISH, PUBACK, PINGREQ, PINGRESP, DISCONNECT = 1, 2, 3, 4, 12, 13, 14
RECEIVE_MAXIMUM = 0x21  # §3.2.2.3.3: absent means 65,535
SERVER_KEEP_ALIVE = 0x13  # §3.2.2.3.14: when present the client MUST use it instead of its own
MAXIMUM_PACKET_SIZE = 0x27  # §3.2.2.3.6: absent means no limit beyond the protocol's
REASON_STRING = 0x1F
MAX_PACKET_ID = 65535
FLUSH_BYTES = 128 * 1024  # a batch this large is sent at once: bounded memory, few syscalls
_READ_BYTES = 65536

REASONS = {  # §2.4 Table 2-6, the codes a publisher can meet
    0x00: "Success", 0x10: "No matching subscribers", 0x80: "Unspecified error",
    0x81: "Malformed Packet", 0x82: "Protocol Error", 0x83: "Implementation specific error",
    0x84: "Unsupported Protocol Version", 0x85: "Client Identifier not valid", 0x86: "Bad User Name or Password",
    0x87: "Not authorized", 0x88: "Server unavailable", 0x89: "Server busy", 0x8A: "Banned",
    0x8C: "Bad authentication method", 0x8D: "Keep Alive timeout", 0x8E: "Session taken over",
    0x90: "Topic Name invalid", 0x91: "Packet Identifier in use", 0x93: "Receive Maximum exceeded",
    0x95: "Packet too large", 0x97: "Quota exceeded", 0x99: "Payload format invalid",
}  # fmt: skip

# §2.2.2.2 Table 2-4: property identifier -> how its value is encoded (needed to skip the ones we ignore).
_BYTE, _U16, _U32, _VARINT, _STRING, _BINARY, _PAIR = range(7)
_PROPERTY_TYPES = {
    0x01: _BYTE, 0x02: _U32, 0x03: _STRING, 0x08: _STRING, 0x09: _BINARY, 0x0B: _VARINT, 0x11: _U32,
    0x12: _STRING, 0x13: _U16, 0x15: _STRING, 0x16: _BINARY, 0x17: _BYTE, 0x18: _U32, 0x19: _BYTE,
    0x1A: _STRING, 0x1C: _STRING, 0x1F: _STRING, 0x21: _U16, 0x22: _U16, 0x23: _U16, 0x24: _BYTE,
    0x25: _BYTE, 0x26: _PAIR, 0x27: _U32, 0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}  # fmt: skip
_FIXED = {_BYTE: struct.Struct("!B"), _U16: struct.Struct("!H"), _U32: struct.Struct("!I")}


class MqttError(Exception):
    """The broker refused something or broke the protocol."""


class ConnectRefused(MqttError):
    def __init__(self, reason_code: int, reason_string: str | None = None) -> None:
        self.reason_code = reason_code
        detail = f" ({reason_string})" if reason_string else ""
        super().__init__(f"the broker refused the connection: CONNACK 0x{reason_code:02X} {reason_name(reason_code)}"
                         f"{detail}")  # fmt: skip


class ConnectionLost(MqttError):
    pass


def reason_name(code: int) -> str:
    return REASONS.get(code, "unknown reason code")


def encode_varint(value: int) -> bytes:
    """§1.5.5 Variable Byte Integer: 7 bits a byte, least significant first, top bit = more bytes follow."""
    if not 0 <= value <= 268_435_455:
        raise ValueError(f"{value} does not fit a Variable Byte Integer")
    out = bytearray()
    while True:
        value, digit = divmod(value, 128)
        out.append(digit | 0x80 if value else digit)
        if not value:
            return bytes(out)


def decode_varint(buf: bytes | bytearray, at: int) -> tuple[int, int] | None:
    """(value, index after it) of the Variable Byte Integer at ``buf[at]``; None if ``buf`` ends inside it."""
    value, shift = 0, 0
    for k in range(4):
        if at + k >= len(buf):
            return None
        digit = buf[at + k]
        value |= (digit & 0x7F) << shift
        if not digit & 0x80:
            return value, at + k + 1
        shift += 7
    raise MqttError("malformed Variable Byte Integer (more than 4 bytes)")


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > 0xFFFF:
        raise ValueError("an MQTT string or binary field holds at most 65,535 bytes")
    return struct.pack("!H", len(raw)) + raw


def encode_connect(client_id: str, username: str | None, password: str | None, keepalive_s: int) -> bytes:
    """§3.1 CONNECT, MQTT 5, Clean Start, no Will, no properties."""
    flags = 0x02 | (0x80 if username is not None else 0) | (0x40 if password is not None else 0)  # §3.1.2.3
    variable = _string("MQTT") + bytes((5, flags)) + struct.pack("!H", keepalive_s) + b"\x00"
    body = variable + _string(client_id)
    if username is not None:
        body += _string(username)
    if password is not None:
        body += _string(password.encode())  # Binary Data (§3.1.3.6)
    return bytes((CONNECT << 4,)) + encode_varint(len(body)) + body


def encode_publish(topic: str, packet_id: int, payload: bytes) -> bytes:
    """§3.3 PUBLISH, QoS 1, no DUP, no RETAIN: topic, packet identifier, property length 0, payload."""
    head, _ = _publish_head(topic.encode(), len(payload))
    return head + struct.pack("!H", packet_id) + b"\x00" + payload


def _publish_head(topic: bytes, payload_len: int) -> tuple[bytes, int]:
    remaining = 2 + len(topic) + 2 + 1 + payload_len
    head = bytes(((PUBLISH << 4) | 0x02,)) + encode_varint(remaining) + _string(topic)
    return head, 1 + len(encode_varint(remaining)) + remaining


PINGREQ_PACKET = bytes((PINGREQ << 4, 0))
DISCONNECT_PACKET = bytes((DISCONNECT << 4, 0))  # §3.14.2.1: Normal disconnection, reason code omitted


def _field(buf: bytes, at: int) -> tuple[bytes, int]:
    """§1.5.4/§1.5.6: a two-byte length, then that many bytes."""
    n = struct.unpack_from("!H", buf, at)[0]
    if at + 2 + n > len(buf):
        raise MqttError("string or binary field longer than its packet")
    return bytes(buf[at + 2 : at + 2 + n]), at + 2 + n


def parse_properties(buf: bytes, at: int) -> tuple[dict[int, Any], int]:
    """§2.2.2: the property block at ``buf[at]`` (length, then identifier/value pairs) and the index after it."""
    got = decode_varint(buf, at)
    if got is None or got[1] + got[0] > len(buf):
        raise MqttError("property block longer than its packet")
    at, end = got[1], got[1] + got[0]
    props: dict[int, Any] = {}
    try:
        while at < end:
            ident, kind = buf[at], _PROPERTY_TYPES.get(buf[at])
            at += 1
            if kind in _FIXED:
                value: Any = _FIXED[kind].unpack_from(buf, at)[0]
                at += _FIXED[kind].size
            elif kind == _VARINT and (pair := decode_varint(buf, at)) is not None:
                value, at = pair
            elif kind in (_STRING, _BINARY):
                raw, at = _field(buf, at)
                value = raw.decode() if kind == _STRING else raw
            elif kind == _PAIR:
                key, at = _field(buf, at)
                text, at = _field(buf, at)
                props.setdefault(ident, []).append((key.decode(), text.decode()))
                continue
            else:
                raise MqttError(f"unknown or truncated property 0x{ident:02X}")
            props[ident] = value
    except (struct.error, UnicodeDecodeError) as exc:
        raise MqttError(f"malformed property: {exc}") from exc
    if at != end:
        raise MqttError("property block overruns its length")
    return props, end


@dataclass(frozen=True)
class Connack:
    session_present: bool
    reason_code: int
    properties: dict[int, Any] = field(default_factory=dict)

    @property
    def receive_maximum(self) -> int:
        return int(self.properties.get(RECEIVE_MAXIMUM, MAX_PACKET_ID))


def parse_connack(body: bytes) -> Connack:
    """§3.2.2: Connect Acknowledge Flags, Connect Reason Code, properties."""
    if len(body) < 2:
        raise MqttError("CONNACK too short")
    props = parse_properties(body, 2)[0] if len(body) > 2 else {}
    return Connack(bool(body[0] & 0x01), body[1], props)


def parse_puback(body: bytes) -> tuple[int, int]:
    """§3.4.2: (packet identifier, reason code). A Remaining Length of 2 means Success (§3.4.2.1)."""
    if len(body) < 2:
        raise MqttError("PUBACK too short")
    return (body[0] << 8) | body[1], body[2] if len(body) > 2 else 0x00


def parse_disconnect(body: bytes) -> tuple[int, str | None]:
    """§3.14.2: (reason code, reason string). A Remaining Length of 0 means Normal disconnection."""
    if not body:
        return 0x00, None
    props = parse_properties(body, 1)[0] if len(body) > 1 else {}
    return body[0], props.get(REASON_STRING)


class PacketTemplate:
    """A QoS 1 PUBLISH pre-encoded around a payload :class:`Template`: per message, one copy of the packet
    into the batch and three in-place patches (packet identifier, ``seq`` digits, ``ts``)."""

    __slots__ = ("packet", "pid_at", "seq_at", "seq_end", "ts_at", "ts_end")

    def __init__(self, topic: str, payload: Template) -> None:
        seq_hole, ts_hole = b"0" * payload.seq_width, b"0" * 24
        body = payload.before_seq + seq_hole + payload.between + ts_hole + payload.after_ts
        head, _ = _publish_head(topic.encode(), len(body))
        self.packet = head + b"\x00\x00\x00" + body  # packet identifier, then property length 0
        self.pid_at = len(head)
        self.seq_at = len(head) + 3 + len(payload.before_seq)
        self.seq_end = self.seq_at + payload.seq_width
        self.ts_at = self.seq_end + len(payload.between)
        self.ts_end = self.ts_at + 24

    def write(self, out: bytearray, packet_id: int, seq_digits: bytes, ts: bytes) -> None:
        """Append the packet for ``packet_id`` to ``out`` (``seq_digits``/``ts`` of the template's fixed widths)."""
        base = len(out)
        out += self.packet
        out[base + self.pid_at : base + self.pid_at + 2] = packet_id.to_bytes(2, "big")
        out[base + self.seq_at : base + self.seq_end] = seq_digits
        out[base + self.ts_at : base + self.ts_end] = ts


class Publisher:
    """One MQTT 5 connection that publishes at QoS 1 and counts PUBACKs; single-threaded.

    ``publish*`` only append to the current batch (waiting for the in-flight window if it is full);
    :meth:`flush` sends the batch and reads whatever acknowledgements have arrived. Counters: ``sent``,
    ``acked`` (every PUBACK) and ``failed`` (PUBACKs with a reason code ≥ 0x80, by code in ``failures``)."""

    def __init__(self, host: str, port: int, client_id: str, username: str | None = None,
                 password: str | None = None, keepalive_s: int = 60, timeout_s: float = 10.0) -> None:  # fmt: skip
        self.client_id = client_id
        self.keepalive_s = keepalive_s
        self.timeout_s = timeout_s
        self.sent = self.acked = self.failed = 0
        self.failures: Counter[int] = Counter()
        self.pings = self.pongs = 0
        self.closed: str | None = None
        self._out = bytearray()
        self._in = b""
        self._inflight = bytearray(MAX_PACKET_ID + 1)  # 1 while that packet identifier awaits its PUBACK
        self._sock = socket.create_connection((host, port), timeout=timeout_s)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a lone probe must not wait (Nagle)
        try:
            self.connack = self._handshake(username, password)
        except BaseException:
            self._sock.close()
            raise
        self._sock.settimeout(None)  # blocking sendall; reads are non-blocking or after a poll
        self._poller = select.poll()
        self._poller.register(self._sock, select.POLLIN)
        self.window = min(self.connack.receive_maximum, MAX_PACKET_ID)
        self._free = deque(range(1, self.window + 1))  # reused as PUBACKs free them (§2.2.1)
        self.keepalive_s = int(self.connack.properties.get(SERVER_KEEP_ALIVE, keepalive_s))
        self.max_packet_bytes: int | None = self.connack.properties.get(MAXIMUM_PACKET_SIZE)
        self._last_send = time.monotonic()

    def _handshake(self, username: str | None, password: str | None) -> Connack:
        self._sock.sendall(encode_connect(self.client_id, username, password, self.keepalive_s))
        buf = b""
        while True:
            chunk = self._sock.recv(_READ_BYTES)
            if not chunk:
                raise ConnectionLost("the broker closed the connection before its CONNACK")
            buf += chunk
            got = decode_varint(buf, 1) if len(buf) >= 2 else None
            if got is not None and len(buf) >= got[1] + got[0]:
                break
        if buf[0] >> 4 != CONNACK:
            raise MqttError(f"expected CONNACK, got packet type {buf[0] >> 4}")
        connack = parse_connack(buf[got[1] : got[1] + got[0]])
        if connack.reason_code >= 0x80:
            raise ConnectRefused(connack.reason_code, connack.properties.get(REASON_STRING))
        self._in = buf[got[1] + got[0] :]
        return connack

    def template(self, topic: str, payload: Template) -> PacketTemplate:
        """The pre-encoded packet for ``topic``, refused if larger than the broker's Maximum Packet Size."""
        template = PacketTemplate(topic, payload)
        if self.max_packet_bytes is not None and len(template.packet) > self.max_packet_bytes:
            raise MqttError(f"a {len(template.packet)}-byte packet exceeds the broker's Maximum Packet Size "
                            f"({self.max_packet_bytes})")  # fmt: skip
        return template

    def _take_id(self) -> int:
        if self.closed:
            raise ConnectionLost(self.closed)
        free = self._free
        if not free:
            self.flush()
            deadline = time.monotonic() + 6 * self.timeout_s
            while not free:
                if self.closed:
                    raise ConnectionLost(self.closed)
                if time.monotonic() > deadline:
                    raise MqttError(f"no PUBACK for {6 * self.timeout_s:.0f} s with {self.window} messages in flight")
                self._read(1.0)
                self.keep_alive()
        packet_id = free.popleft()
        self._inflight[packet_id] = 1
        self.sent += 1
        return packet_id

    def publish_template(self, template: PacketTemplate, seq_digits: bytes, ts: bytes) -> None:
        template.write(self._out, self._take_id(), seq_digits, ts)
        if len(self._out) >= FLUSH_BYTES:
            self.flush()

    def publish(self, topic: str, payload: bytes) -> None:
        self._out += encode_publish(topic, self._take_id(), payload)
        if len(self._out) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Send the batch (one ``sendall``), then read the acknowledgements already there without waiting."""
        if self._out:
            if self.closed:
                raise ConnectionLost(self.closed)
            try:
                self._sock.sendall(self._out)
            except OSError as exc:
                self.closed = self.closed or f"sending failed: {exc}"
                raise ConnectionLost(self.closed) from exc
            self._out.clear()
            self._last_send = time.monotonic()
        self._read(0)
        self.keep_alive()

    def keep_alive(self) -> None:
        """§3.1.2.10: a control packet at least every Keep Alive; PINGREQ after half of it idle."""
        if not self.closed and time.monotonic() - self._last_send >= self.keepalive_s / 2:
            self._sock.sendall(PINGREQ_PACKET)
            self.pings += 1
            self._last_send = time.monotonic()

    def wait_acked(self, timeout_s: float) -> bool:
        """Send what is batched and wait until every message sent has its PUBACK (False on timeout)."""
        self.flush()
        deadline = time.monotonic() + timeout_s
        while self.acked < self.sent and not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._read(min(1.0, remaining))
            self.keep_alive()
        if self.acked < self.sent:
            raise ConnectionLost(f"{self.closed}; {self.sent - self.acked} messages never acknowledged")
        return True

    def _read(self, wait_s: float) -> bool:
        """Read and handle what the broker sent; wait up to ``wait_s`` for something. True if anything came."""
        if self.closed:
            return False
        if wait_s > 0 and not self._poller.poll(int(wait_s * 1000)):
            return False
        got = False
        while True:
            try:
                chunk = self._sock.recv(_READ_BYTES, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as exc:
                self.closed = f"reading failed: {exc}"
                break
            if not chunk:
                self._handle(b"")
                self.closed = self.closed or "the broker closed the connection"
                break
            got = True
            self._handle(chunk)
            if len(chunk) < _READ_BYTES:
                break
        return got

    def _handle(self, chunk: bytes) -> None:
        buf = self._in + chunk if self._in else chunk
        at, n = 0, len(buf)
        while n - at >= 2:
            got = decode_varint(buf, at + 1)
            if got is None:
                break
            length, start = got
            end = start + length
            if end > n:
                break
            kind = buf[at] >> 4
            if kind == PUBACK:
                packet_id, reason = parse_puback(buf[start:end])
                if not self._inflight[packet_id]:
                    raise MqttError(f"PUBACK for packet identifier {packet_id}, which is not in flight")
                self._inflight[packet_id] = 0
                self._free.append(packet_id)
                self.acked += 1
                if reason >= 0x80:
                    self.failed += 1
                    self.failures[reason] += 1
            elif kind == PINGRESP:
                self.pongs += 1
            elif kind == DISCONNECT:
                code, text = parse_disconnect(buf[start:end])
                self.closed = f"the broker disconnected: 0x{code:02X} {reason_name(code)}{f' ({text})' if text else ''}"
            else:
                raise MqttError(f"unexpected packet type {kind} from the broker")
            at = end
        self._in = buf[at:]

    def failure_summary(self) -> str | None:
        """``"3 PUBACKs refused: 0x87 Not authorized ×3"``, or None when every PUBACK was a success."""
        if not self.failed:
            return None
        parts = ", ".join(f"0x{code:02X} {reason_name(code)} ×{n}" for code, n in sorted(self.failures.items()))
        return f"{self.failed} PUBACKs refused: {parts}"

    def close(self) -> None:
        """DISCONNECT (Normal disconnection) and close the socket; the batch not yet flushed is dropped."""
        try:
            if not self.closed:
                self._sock.sendall(DISCONNECT_PACKET)
        except OSError:
            pass
        finally:
            self.closed = self.closed or "closed by the client"
            self._sock.close()
