"""Payload codec: MQTT bytes → validated domain records, or a stable rejection reason.

Validation happens here, at the edge, once: past this module every record is a frozen domain object with
units, UTC timestamps and finite numbers. The pydantic models mirror the JSON Schemas in
``gateway/contract/`` (a test keeps them in agreement). Nothing here raises anything but ``InvalidFrame``.
"""

from __future__ import annotations

import re
from datetime import MAXYEAR, UTC, datetime, timedelta
from typing import Annotated, Literal, TypeVar

import numpy as np
import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from services.errors import InvalidFrame
from services.model import (
    DeviceLink,
    Environment,
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

# Every reason this module rejects with (docs/contract.md lists them, with the ingest's own).
REASONS = frozenset({
    "bad_json", "schema", "too_large", "id_mismatch", "imu_rate_mismatch", "imu_length_mismatch",
    "ts_in_future", "ts_too_old", "bad_status",
})  # fmt: skip
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# The JSON Schema's RFC 3339 profile: upper-case T and Z, no space, no bare epoch numbers in strings.
TS_PATTERN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _json_integer(value: object) -> object:
    # JSON has one number type: 42.0 is the integer 42 (JSON Schema 2020-12 §6.1.1), but true is not 1.
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _rfc3339(value: object) -> object:
    # Checked before pydantic parses the string (leniently, since a validator hands it over as a Python str,
    # which strict mode refuses): on its own pydantic also takes "2026-11-26 08:59:59Z" or "1764147599".
    if not isinstance(value, str) or TS_PATTERN.fullmatch(value) is None:
        raise ValueError("expected an RFC 3339 date-time such as 2026-11-26T08:59:59.250Z")
    return value


def _storable(text: str) -> str:
    # Free text (tool ids, robot modes, faults) is taken as the contract allows it, but for the one character
    # PostgreSQL text cannot hold: stored, a NUL would fail the whole batch's transaction.
    if "\x00" in text:
        raise ValueError("a NUL character cannot be stored")
    return text


def _printable(text: str, limit: int = 300) -> str:
    # A rejection's detail may quote the payload (an unknown key): keep it storable and readable in logs.
    text = text if len(text) <= limit else text[:limit] + "…"
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


M = TypeVar("M", bound=BaseModel)
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
V1 = Annotated[Literal[1], BeforeValidator(_json_integer)]
Seq = Annotated[int, BeforeValidator(_json_integer), Field(ge=0, le=2**63 - 1)]
Timestamp = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_rfc3339)]
Text = Annotated[str, AfterValidator(_storable)]
Acc = Annotated[float, Field(ge=-2000, le=2000)]
Gyr = Annotated[float, Field(ge=-100, le=100)]
MAX_SAMPLES = 220
# Device clocks drift and GPS time can be off; beyond these bounds a timestamp is a bug, not a backfill.
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=30)


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class ImuIn(_Strict):
    rate_hz: Annotated[float, Field(ge=20, le=200)]
    acc_ms2: Annotated[list[tuple[Acc, Acc, Acc]], Field(min_length=1, max_length=MAX_SAMPLES)]
    gyr_rads: Annotated[list[tuple[Gyr, Gyr, Gyr]], Field(min_length=1, max_length=MAX_SAMPLES)] | None = None


class NoiseIn(_Strict):
    laeq_db: Annotated[float, Field(ge=0, le=160)]
    lcpeak_db: Annotated[float, Field(ge=0, le=200)] | None = None


class EnvIn(_Strict):
    temp_c: Annotated[float, Field(ge=-50, le=70)]
    rh_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    globe_temp_c: Annotated[float, Field(ge=-50, le=100)] | None = None


class HavIn(_Strict):
    tool_id: Annotated[Text, Field(max_length=64)] | None = None
    ahv_ms2: Annotated[float, Field(ge=0, le=100)]
    trigger_s: Annotated[float, Field(ge=0, le=1)]


AwAxis = Annotated[float, Field(ge=0, le=50)]


class WbvIn(_Strict):
    aw_ms2: tuple[AwAxis, AwAxis, AwAxis]
    duration_s: Annotated[float, Field(ge=0, le=1)]


class GeometryIn(_Strict):
    h_cm: Annotated[float, Field(ge=0, le=200)]
    v_cm: Annotated[float, Field(ge=0, le=250)]
    d_cm: Annotated[float, Field(ge=0, le=250)]
    a_deg: Annotated[float, Field(ge=0, le=180)]
    coupling: Literal["good", "fair", "poor"]
    freq_per_min: Annotated[float, Field(ge=0, le=20)] = 1.0
    duration_h: Annotated[float, Field(ge=0, le=8)] = 2.0


class LiftIn(_Strict):
    count: Annotated[int, BeforeValidator(_json_integer), Field(ge=0, le=10)]
    load_kg: Annotated[float, Field(ge=0, le=150)]
    geometry: GeometryIn | None = None


class GpsIn(_Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    acc_m: Annotated[float, Field(ge=0, le=10000)] | None = None


class FrameIn(_Strict):
    v: V1
    device_id: Id
    seq: Seq
    ts: Timestamp
    imu: ImuIn | None = None
    hr_bpm: Annotated[float, Field(ge=20, le=250)] | None = None
    skin_temp_c: Annotated[float, Field(ge=15, le=45)] | None = None
    noise: NoiseIn | None = None
    env: EnvIn | None = None
    hav: HavIn | None = None
    wbv: WbvIn | None = None
    lift: LiftIn | None = None
    gps: GpsIn | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    sos: bool = False
    cancel: bool = False
    checkin: bool = False


class PoseIn(_Strict):
    x_m: Annotated[float, Field(ge=-1e6, le=1e6)]
    y_m: Annotated[float, Field(ge=-1e6, le=1e6)]
    yaw_rad: Annotated[float, Field(ge=-7, le=7)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None


class RobotStateIn(_Strict):
    v: V1
    robot_id: Id
    seq: Seq
    ts: Timestamp
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    pose: PoseIn | None = None
    speed_ms: Annotated[float, Field(ge=-20, le=20)] | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    mode: Annotated[Text, Field(max_length=32)] | None = None
    estop: bool | None = None
    protective_stop: bool | None = None
    nearest_human_m: Annotated[float, Field(ge=0, le=1000)] | None = None
    payload_kg: Annotated[float, Field(ge=0, le=2000)] | None = None
    faults: Annotated[list[Annotated[Text, Field(max_length=128)]], Field(max_length=32)] = []


def _schema_error(exc: ValidationError) -> InvalidFrame:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0] if errors else {"loc": (), "msg": str(exc), "type": "unknown"}
    loc = ".".join(str(part) for part in first["loc"]) or "(payload)"
    reason = "bad_json" if str(first["type"]).startswith("json_") else "schema"
    return InvalidFrame(reason, _printable(f"{loc}: {first['msg']} ({len(errors)} error(s))"))


# Bytes without which a payload pydantic accepted is also valid RFC 8259 JSON (see _validate): tokens JSON does
# not have, \u escapes (lone surrogates), and exponents a double cannot hold (three digits), which pydantic's
# parser turns into inf where a repeated key can hide them.
_STRICT_PARSE_IF = (b"NaN", b"Infinity", b"\\u")
_HUGE_NUMBER = re.compile(rb"[0-9][eE][+-]?[0-9]{3}")


def _validate(model: type[M], payload: bytes) -> M:
    try:
        raw = model.model_validate_json(payload)
    except ValidationError as exc:
        raise _schema_error(exc) from exc
    plain = payload.isascii() and not any(token in payload for token in _STRICT_PARSE_IF)
    if plain and not _HUGE_NUMBER.search(payload):
        return raw  # nothing the strict parser could refuse after pydantic's: spare it (11 % of ingest CPU)
    try:
        # pydantic's parser reads NaN and Infinity tokens and leaves them to validation, which a repeated key
        # hides (the last value wins). RFC 8259 has neither, so a strict parser has the last word; it also
        # refuses lone surrogates (\u escapes) and invalid UTF-8 (non-ASCII bytes).
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidFrame("bad_json", _printable(str(exc))) from None
    return raw


def _check_size(payload: bytes, max_bytes: int) -> None:
    if len(payload) > max_bytes:
        raise InvalidFrame("too_large", f"{len(payload)} bytes > {max_bytes}")


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


def _imu(imu: ImuIn) -> Imu:
    n = len(imu.acc_ms2)
    # A frame holds one second: the sample count must match the declared rate (±10 %, at least ±2).
    if abs(n - imu.rate_hz) > max(2.0, 0.1 * imu.rate_hz):
        raise InvalidFrame("imu_rate_mismatch", f"{n} samples for rate_hz={imu.rate_hz}")
    if imu.gyr_rads is not None and len(imu.gyr_rads) != n:
        raise InvalidFrame("imu_length_mismatch", f"{len(imu.gyr_rads)} gyr samples for {n} acc")
    gyr = None if imu.gyr_rads is None else np.asarray(imu.gyr_rads, dtype=np.float32)
    return Imu(rate_hz=imu.rate_hz, acc_ms2=np.asarray(imu.acc_ms2, dtype=np.float32), gyr_rads=gyr)


def _lift(lift: LiftIn) -> Lift:
    g = lift.geometry
    geometry = None if g is None else LiftGeometry(g.h_cm, g.v_cm, g.d_cm, g.a_deg, g.coupling, g.freq_per_min,
                                                     g.duration_h)  # fmt: skip
    return Lift(lift.count, lift.load_kg, geometry)


def decode_frame(payload: bytes, topic_device_id: str, now: datetime, max_bytes: int = 65_536) -> Frame:
    """Decode a wearable frame published on ``vigie/v1/wearables/{topic_device_id}/frame``."""
    _check_size(payload, max_bytes)
    raw = _validate(FrameIn, payload)
    if raw.device_id != topic_device_id:
        # A device may publish only under its own id (the broker ACL enforces it too).
        raise InvalidFrame("id_mismatch", f"payload device_id {raw.device_id!r} on topic of {topic_device_id!r}")
    return Frame(
        device_id=raw.device_id,
        seq=raw.seq,
        ts=_check_time(raw.ts, now),
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


def decode_robot_state(
    payload: bytes, topic_robot_id: str, now: datetime, max_bytes: int = 65_536
) -> RobotState:
    """Decode a robot state published on ``vigie/v1/robots/{topic_robot_id}/state``."""
    _check_size(payload, max_bytes)
    raw = _validate(RobotStateIn, payload)
    if raw.robot_id != topic_robot_id:
        raise InvalidFrame("id_mismatch", f"payload robot_id {raw.robot_id!r} on topic of {topic_robot_id!r}")
    pose = raw.pose
    return RobotState(
        robot_id=raw.robot_id,
        seq=raw.seq,
        ts=_check_time(raw.ts, now),
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
    )


def decode_status(payload: bytes) -> DeviceLink:
    """The retained ``online``/``offline`` status (the device's Last Will is ``offline``)."""
    text = payload[:16].decode("utf-8", errors="replace").strip().lower()
    try:
        return DeviceLink(text)
    except ValueError as exc:
        raise InvalidFrame("bad_status", f"expected online/offline, got {text!r}") from exc
