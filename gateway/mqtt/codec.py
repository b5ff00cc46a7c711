"""Payload codec: MQTT bytes → validated domain records, or a stable rejection reason.

Validation happens here, at the edge, once: past this module every record is a frozen domain object with
units, UTC timestamps and finite numbers. msgspec parses and validates in one pass, against the Structs of
``wire`` that mirror the JSON Schemas in ``gateway/contract/`` (tests keep them in agreement); the few rules a
Struct cannot hold are checked right after. Nothing here raises anything but ``InvalidFrame``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import MAXYEAR, UTC, datetime, timedelta
from itertools import chain
from typing import TypeVar

import msgspec
import numpy as np
import orjson

from gateway.mqtt.wire import (
    INTEGER_BOUNDS,
    MAX_SAMPLES,
    FrameIn,
    ImuIn,
    LiftIn,
    RobotStateIn,
)
from services.errors import InvalidFrame
from services.model import (
    DeviceLink,
    Environment,
    FloatArray,
    Frame,
    HandArmVibration,
    Imu,
    Lift,
    LiftGeometry,
    Noise,
    Pose,
    Position,
    RobotState,
    WholeBodyVibration,
)

__all__ = [
    "MAX_FUTURE", "MAX_PAST", "MAX_SAMPLES", "REASONS", "decode_frame",
    "decode_robot_state", "decode_status",
]  # fmt: skip

# Every reason this module rejects with (docs/contract.md lists them, with the ingest's own).
REASONS = frozenset({
    "bad_json", "schema", "too_large", "id_mismatch", "imu_rate_mismatch", "imu_length_mismatch",
    "ts_in_future", "ts_too_old", "bad_status",
})  # fmt: skip
# Device clocks drift and GPS time can be off; beyond these bounds a timestamp is a bug, not a backfill.
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=30)
# No contract payload nests past 4 levels; the decoder refuses JSON nested deeper than this as bad_json.
MAX_DEPTH = 200

S = TypeVar("S", bound=msgspec.Struct)
_FRAME = msgspec.json.Decoder(FrameIn)
_ROBOT = msgspec.json.Decoder(RobotStateIn)
# msgspec refuses what RFC 8259 does not have (NaN, Infinity, lone surrogates: DecodeError; 1e400:
# ValidationError, a DecodeError too), but invalid UTF-8 inside a string raises Python's UnicodeDecodeError.
_REFUSED = (msgspec.DecodeError, UnicodeDecodeError)


# msgspec names a key in its message: the codec's details put it in the path, as for any other field.
_KEY_MESSAGES = {"Object contains unknown field `": "not a field of contract v1",
                 "Object missing required field `": "required field missing"}  # fmt: skip
_TS_MESSAGE = "expected an RFC 3339 date-time such as 2026-11-26T08:59:59.250Z"


def _printable(text: str, limit: int = 300) -> str:
    # A rejection's detail may quote the payload (an unknown key): keep it storable and readable in logs.
    text = text if len(text) <= limit else text[:limit] + "…"
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _schema(path: str, message: str) -> InvalidFrame:
    return InvalidFrame("schema", _printable(f"{path}: {message}"))


def _schema_error(exc: msgspec.ValidationError) -> InvalidFrame:
    # msgspec stops at the first error: "Expected `float` <= 250.0 - at `$.imu.acc_ms2[3][2]`".
    message, at, path = str(exc).rpartition(" - at `$")
    if not at:
        message, path = path, ""
    path = path.removesuffix("`").replace("[", ".").replace("]", "")
    for prefix, plain in _KEY_MESSAGES.items():
        if message.startswith(prefix):
            path, message = f"{path}.{message.removeprefix(prefix).removesuffix('`')}", plain
    if path == ".ts" and "regex" in message:
        message = _TS_MESSAGE
    return _schema(path.lstrip(".") or "(payload)", message)


def _bad_json(exc: Exception) -> InvalidFrame:
    return InvalidFrame("bad_json", _printable(str(exc)))


def _integer(value: int | float, path: str) -> int:
    # JSON has one number type: 42.0 is the integer 42 (JSON Schema 2020-12 §6.1.1), but true is not 1 (msgspec
    # refuses booleans for numbers).
    low, high = INTEGER_BOUNDS[path]
    if isinstance(value, float):
        if not value.is_integer():
            raise _schema(path, f"expected an integer, got {value!r}")
        value = int(value)
    if not low <= value <= high:
        raise _schema(path, f"expected {low}, got {value}" if low == high else
                      f"expected an integer from {low} to {high}, got {value}")  # fmt: skip
    return value


def _timestamp(text: str) -> datetime:
    # The pattern checked the RFC 3339 profile's shape; fromisoformat checks the calendar (no 30 February,
    # 24:00 or leap second) and keeps microseconds (further digits truncated). It takes an offset's minutes up
    # to 99, where RFC 3339 §5.6 (time-minute) stops at 59.
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or (text[-1] != "Z" and text[-2:] > "59"):
        raise _schema("ts", _TS_MESSAGE)
    return moment


def _storable(text: str | None, path: str) -> None:
    # Free text (tool ids, robot modes, faults) is taken as the contract allows it, but for the one character
    # PostgreSQL text cannot hold: stored, a NUL would fail the whole batch's transaction.
    if text is not None and "\x00" in text:
        raise _schema(path, "a NUL character cannot be stored")


def _frame_rules(raw: FrameIn) -> tuple[int, datetime]:
    """The frame's rules no Struct holds; returns its ``seq`` and ``ts``."""
    _integer(raw.v, "v")
    seq = _integer(raw.seq, "seq")
    ts = _timestamp(raw.ts)
    if raw.hav is not None:
        _storable(raw.hav.tool_id, "hav.tool_id")
    if raw.lift is not None:
        _integer(raw.lift.count, "lift.count")
    return seq, ts


def _robot_rules(raw: RobotStateIn) -> tuple[int, datetime]:
    """The robot state's rules no Struct holds; returns its ``seq`` and ``ts``."""
    _integer(raw.v, "v")
    seq = _integer(raw.seq, "seq")
    ts = _timestamp(raw.ts)
    _storable(raw.mode, "mode")
    for i, fault in enumerate(raw.faults):
        _storable(fault, f"faults.{i}")
    return seq, ts


def _deeper_than(doc: object, limit: int, payload: bytes) -> bool:
    if payload.count(b"[") + payload.count(b"{") <= limit:  # the payload's brackets bound the depth
        return False
    level, depth = [doc], 0
    while level := [node for node in level if isinstance(node, dict | list)]:
        depth += 1
        if depth > limit:
            return True
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else node)]
    return False


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)  # a JSON string token, escapes included


def _has_lone_surrogate(payload: bytes) -> bool:
    # In every string, also one a repeated key replaced (a string token ends at the first unescaped quote).
    for token in _STRING.finditer(payload):
        if b"\\u" in token[0]:
            try:
                json.loads(token[0]).encode("utf-8")
            except ValueError:  # UnicodeEncodeError: a surrogate UTF-8 cannot encode
                return True
    return False


def _second_look(decoder: msgspec.json.Decoder[S], rules: Callable[[S], object], payload: bytes) -> S:
    """msgspec refused the payload: accept it if a repeated key's replaced value was all it refused, else say why.

    msgspec validates every value it reads, also one that a repeated key then replaces, where the JSON parsers
    here keep the last (RFC 8259 §4 leaves it open; orjson, json and the fuzz test's reference all do). The
    reason is the one the decoder has always given: ``schema`` when the payload, read leniently (NaN, Infinity,
    1e400 as numbers, the last of repeated keys), breaks the contract; ``bad_json`` when it is not JSON at all,
    or when only values JSON does not have, replaced by a repeated key, kept it from being valid. Only
    payloads msgspec refused take this path, so its cost (a few strict and lenient parses) is the rejections'.
    """
    try:
        doc = orjson.loads(payload)  # RFC 8259, and the last of repeated keys
    except orjson.JSONDecodeError as exc:
        strict_error = exc
    else:
        if _deeper_than(doc, MAX_DEPTH, payload):
            raise InvalidFrame("bad_json", f"nested deeper than {MAX_DEPTH} levels")
        try:
            return decoder.decode(orjson.dumps(doc))
        except msgspec.ValidationError as exc:
            raise _schema_error(exc) from None
    try:
        # What the decoder read before it parsed strictly (pydantic's parser): JSON plus NaN, Infinity and
        # -Infinity, numbers past a double as infinities; refusing invalid UTF-8 and lone surrogates.
        text = payload.decode("utf-8")
        if _has_lone_surrogate(payload):
            raise ValueError("lone surrogate")
        lenient = json.loads(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError and json.JSONDecodeError are ValueErrors
        raise _bad_json(strict_error) from None
    if _deeper_than(lenient, MAX_DEPTH, payload):
        raise _bad_json(strict_error)
    try:
        # A NaN or infinity fails here wherever it is: every number of the contract is bounded.
        rules(msgspec.convert(lenient, decoder.type))
    except msgspec.ValidationError as exc:
        raise _schema_error(exc) from None
    raise _bad_json(strict_error)  # a value only a repeated key's last value replaced was not JSON


def _decode(decoder: msgspec.json.Decoder[S], rules: Callable[[S], tuple[int, datetime]], payload: bytes,
            max_bytes: int) -> tuple[S, int, datetime]:  # fmt: skip
    if len(payload) > max_bytes:
        raise InvalidFrame("too_large", f"{len(payload)} bytes > {max_bytes}")
    try:
        raw = decoder.decode(payload)
    except _REFUSED:
        raw = _second_look(decoder, rules, payload)
    seq, ts = rules(raw)
    return raw, seq, ts


def _check_time(ts: datetime, now: datetime) -> datetime:
    try:
        utc = ts.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-23:59 or 0001-01-01T00:00:00+23:59: valid RFC 3339, outside datetime's range.
        reason = "ts_in_future" if ts.year == MAXYEAR else "ts_too_old"
        raise InvalidFrame(reason, f"{ts.isoformat()} is out of range") from None
    if utc > now + MAX_FUTURE:
        raise InvalidFrame("ts_in_future", f"{utc.isoformat()} is more than {MAX_FUTURE} ahead")
    if utc < now - MAX_PAST:
        raise InvalidFrame("ts_too_old", f"{utc.isoformat()} is more than {MAX_PAST.days} days old")
    return utc


def _samples(rows: list[tuple[float, float, float]]) -> FloatArray:
    # Straight into a float32 buffer of known size: half the time of np.asarray(rows, np.float32), which first
    # works out the nesting of the Python lists (~5 µs against ~10 µs per 50-sample axis, measured here).
    samples: FloatArray = np.fromiter(chain.from_iterable(rows), np.float32, 3 * len(rows)).reshape(-1, 3)
    return samples


def _imu(imu: ImuIn) -> Imu:
    n = len(imu.acc_ms2)
    # A frame holds one second: the sample count must match the declared rate (±10 %, at least ±2).
    if abs(n - imu.rate_hz) > max(2.0, 0.1 * imu.rate_hz):
        raise InvalidFrame("imu_rate_mismatch", f"{n} samples for rate_hz={imu.rate_hz}")
    if imu.gyr_rads is not None and len(imu.gyr_rads) != n:
        raise InvalidFrame("imu_length_mismatch", f"{len(imu.gyr_rads)} gyr samples for {n} acc")
    gyr = None if imu.gyr_rads is None else _samples(imu.gyr_rads)
    return Imu(rate_hz=imu.rate_hz, acc_ms2=_samples(imu.acc_ms2), gyr_rads=gyr)


def _lift(lift: LiftIn) -> Lift:
    g = lift.geometry
    geometry = None if g is None else LiftGeometry(g.h_cm, g.v_cm, g.d_cm, g.a_deg, g.coupling, g.freq_per_min,
                                                     g.duration_h)  # fmt: skip
    return Lift(int(lift.count), lift.load_kg, geometry)


def decode_frame(payload: bytes, topic_device_id: str, now: datetime, max_bytes: int = 65_536) -> Frame:
    """Decode a wearable frame published on ``vigie/v1/wearables/{topic_device_id}/frame``."""
    raw, seq, ts = _decode(_FRAME, _frame_rules, payload, max_bytes)
    if raw.device_id != topic_device_id:
        # A device may publish only under its own id (the broker ACL enforces it too).
        raise InvalidFrame("id_mismatch", f"payload device_id {raw.device_id!r} on topic of {topic_device_id!r}")
    return Frame(
        device_id=raw.device_id,
        seq=seq,
        ts=_check_time(ts, now),
        imu=_imu(raw.imu) if raw.imu else None,
        hr_bpm=raw.hr_bpm,
        skin_temp_c=raw.skin_temp_c,
        noise=Noise(raw.noise.laeq_db, raw.noise.lcpeak_db) if raw.noise else None,
        env=Environment(raw.env.temp_c, raw.env.rh_pct, raw.env.globe_temp_c) if raw.env else None,
        hav=HandArmVibration(raw.hav.ahv_ms2, raw.hav.trigger_s, raw.hav.tool_id) if raw.hav else None,
        wbv=WholeBodyVibration(raw.wbv.aw_ms2, raw.wbv.duration_s) if raw.wbv else None,
        lift=_lift(raw.lift) if raw.lift else None,
        gps=Position(raw.gps.lat, raw.gps.lon, raw.gps.acc_m) if raw.gps else None,
        battery_pct=raw.battery_pct,
        sos=raw.sos,
        cancel=raw.cancel,
        checkin=raw.checkin,
    )


def decode_robot_state(payload: bytes, topic_robot_id: str, now: datetime, max_bytes: int = 65_536) -> RobotState:
    """Decode a robot state published on ``vigie/v1/robots/{topic_robot_id}/state``."""
    raw, seq, ts = _decode(_ROBOT, _robot_rules, payload, max_bytes)
    if raw.robot_id != topic_robot_id:
        raise InvalidFrame("id_mismatch", f"payload robot_id {raw.robot_id!r} on topic of {topic_robot_id!r}")
    pose = raw.pose
    return RobotState(
        robot_id=raw.robot_id,
        seq=seq,
        ts=_check_time(ts, now),
        kind=raw.kind,
        pose=Pose(pose.x_m, pose.y_m, pose.yaw_rad, pose.lat, pose.lon) if pose else None,
        speed_ms=raw.speed_ms,
        battery_pct=raw.battery_pct,
        mode=raw.mode,
        estop=raw.estop,
        protective_stop=raw.protective_stop,
        nearest_human_m=raw.nearest_human_m,
        payload_kg=raw.payload_kg,
        faults=tuple(raw.faults),
        tracks_leader=raw.nearest_other_human_m is not msgspec.UNSET,
        nearest_other_human_m=None if raw.nearest_other_human_m is msgspec.UNSET else raw.nearest_other_human_m,
    )


def decode_status(payload: bytes) -> DeviceLink:
    """The retained ``online``/``offline`` status (the device's Last Will is ``offline``)."""
    text = payload[:16].decode("utf-8", errors="replace").strip().lower()
    try:
        return DeviceLink(text)
    except ValueError as exc:
        raise InvalidFrame("bad_status", f"expected online/offline, got {text!r}") from exc
