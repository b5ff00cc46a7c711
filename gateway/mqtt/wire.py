"""Contract v1 payloads as msgspec Structs: the JSON Schemas of ``gateway/contract/``, field for field.

Every bound of the schemas is a ``msgspec.Meta`` constraint, checked while the bytes are parsed, and every
object refuses unknown keys. What msgspec cannot say is checked by ``codec`` right after decoding: JSON
integers (``v``, ``seq``, ``lift.count`` are ``int | float`` here, so that 42.0 can count as 42), the
RFC 3339 date-time behind the pattern, and free text PostgreSQL can store. ``test_codec.py`` checks these
models against the published schemas; ``test_codec_fuzz.py`` against a strict RFC 8259 reader.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

# The schemas' patterns are ECMA-262, where "$" ends the string; msgspec runs Python's re.search, where "$"
# also matches before a final newline ("wear-1\n"): \A and \Z say what the schemas mean.
_ID = r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z"
# The JSON Schema's RFC 3339 profile: upper-case T and Z, no space, no bare epoch numbers in strings.
TS_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"
MAX_SAMPLES = 220

Id = Annotated[str, Meta(pattern=_ID)]
Timestamp = Annotated[str, Meta(pattern=rf"\A{TS_PATTERN}\Z")]
# A JSON number that must be an integer: 42.0 is 42 (JSON Schema 2020-12 §6.1.1), which msgspec's int refuses,
# and true is not (msgspec refuses booleans for numbers). The codec checks these bounds after decoding.
Integer = int | float
INTEGER_BOUNDS = {"v": (1, 1), "seq": (0, 2**63 - 1), "lift.count": (0, 10)}  # seq: a PostgreSQL bigint
Acc = Annotated[float, Meta(ge=-2000, le=2000)]
Gyr = Annotated[float, Meta(ge=-100, le=100)]
AccSamples = Annotated[list[tuple[Acc, Acc, Acc]], Meta(min_length=1, max_length=MAX_SAMPLES)]
GyrSamples = Annotated[list[tuple[Gyr, Gyr, Gyr]], Meta(min_length=1, max_length=MAX_SAMPLES)]
AwAxis = Annotated[float, Meta(ge=0, le=50)]
Lat = Annotated[float, Meta(ge=-90, le=90)]
Lon = Annotated[float, Meta(ge=-180, le=180)]
Percent = Annotated[float, Meta(ge=0, le=100)]


class _Strict(Struct, forbid_unknown_fields=True):  # the schemas' "additionalProperties": false
    pass


class ImuIn(_Strict):
    rate_hz: Annotated[float, Meta(ge=20, le=200)]
    acc_ms2: AccSamples
    gyr_rads: GyrSamples | None = None


class NoiseIn(_Strict):
    laeq_db: Annotated[float, Meta(ge=0, le=160)]
    lcpeak_db: Annotated[float, Meta(ge=0, le=200)] | None = None


class EnvIn(_Strict):
    temp_c: Annotated[float, Meta(ge=-50, le=70)]
    rh_pct: Percent | None = None
    globe_temp_c: Annotated[float, Meta(ge=-50, le=100)] | None = None


class HavIn(_Strict):
    ahv_ms2: Annotated[float, Meta(ge=0, le=100)]
    trigger_s: Annotated[float, Meta(ge=0, le=1)]
    tool_id: Annotated[str, Meta(max_length=64)] | None = None


class WbvIn(_Strict):
    aw_ms2: tuple[AwAxis, AwAxis, AwAxis]
    duration_s: Annotated[float, Meta(ge=0, le=1)]


class GeometryIn(_Strict):
    h_cm: Annotated[float, Meta(ge=0, le=200)]
    v_cm: Annotated[float, Meta(ge=0, le=250)]
    d_cm: Annotated[float, Meta(ge=0, le=250)]
    a_deg: Annotated[float, Meta(ge=0, le=180)]
    coupling: Literal["good", "fair", "poor"]
    freq_per_min: Annotated[float, Meta(ge=0, le=20)] = 1.0
    duration_h: Annotated[float, Meta(ge=0, le=8)] = 2.0


class LiftIn(_Strict):
    count: Integer
    load_kg: Annotated[float, Meta(ge=0, le=150)]
    geometry: GeometryIn | None = None


class GpsIn(_Strict):
    lat: Lat
    lon: Lon
    acc_m: Annotated[float, Meta(ge=0, le=10000)] | None = None


class FrameIn(_Strict):
    v: Integer
    device_id: Id
    seq: Integer
    ts: Timestamp
    imu: ImuIn | None = None
    hr_bpm: Annotated[float, Meta(ge=20, le=250)] | None = None
    skin_temp_c: Annotated[float, Meta(ge=15, le=45)] | None = None
    noise: NoiseIn | None = None
    env: EnvIn | None = None
    hav: HavIn | None = None
    wbv: WbvIn | None = None
    lift: LiftIn | None = None
    gps: GpsIn | None = None
    battery_pct: Percent | None = None
    sos: bool = False
    cancel: bool = False
    checkin: bool = False


class PoseIn(_Strict):
    x_m: Annotated[float, Meta(ge=-1e6, le=1e6)]
    y_m: Annotated[float, Meta(ge=-1e6, le=1e6)]
    yaw_rad: Annotated[float, Meta(ge=-7, le=7)] | None = None
    lat: Lat | None = None
    lon: Lon | None = None


class RobotStateIn(_Strict):
    v: Integer
    robot_id: Id
    seq: Integer
    ts: Timestamp
    kind: Annotated[str, Meta(pattern=r"\A[a-z][a-z0-9_]{0,31}\Z")]
    pose: PoseIn | None = None
    speed_ms: Annotated[float, Meta(ge=-20, le=20)] | None = None
    battery_pct: Percent | None = None
    mode: Annotated[str, Meta(max_length=32)] | None = None
    estop: bool | None = None
    protective_stop: bool | None = None
    nearest_human_m: Annotated[float, Meta(ge=0, le=1000)] | None = None
    # Absent (UNSET): the robot does not tell a leader apart; null: it does, and nobody else is detected.
    nearest_other_human_m: Annotated[float, Meta(ge=0, le=1000)] | UnsetType | None = UNSET
    payload_kg: Annotated[float, Meta(ge=0, le=2000)] | None = None
    faults: Annotated[list[Annotated[str, Meta(max_length=128)]], Meta(max_length=32)] = []
