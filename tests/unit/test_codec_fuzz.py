"""Fuzzing the edge decoders: whatever arrives, a record that honours the contract or a counted reason.

Five families of input, derandomized so that every run (and CI) tries the same 10,700 cases: arbitrary
bytes, arbitrary JSON (deep nesting, NaN/Infinity tokens), mutations of valid frames and robot states
(wrong types, non-finite and huge numbers, huge arrays, wrong IMU rates, timestamps centuries away,
bad seq, Unicode tricks, extra, missing and duplicate keys) and whole MQTT batches on malformed topics.

The property: the decoder returns a record that re-validates against the published JSON Schema, lies in
the accepted time window and equals what a strict reference parser (RFC 8259) reads, or it raises
``InvalidFrame`` with a reason from ``codec.REASONS`` and a storable detail. Nothing else, ever. The
figures go to test-artifacts/codec-fuzz.json (quoted in docs/reliability.md).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from gateway.ingest import decode_batch
from gateway.mqtt import codec, topics
from gateway.mqtt.client import Incoming
from gateway.settings import Settings
from services.errors import InvalidFrame
from tests.unit.test_codec import NOW, full_frame, robot_state

REPO = Path(__file__).resolve().parents[2]
CASES: Counter[str] = Counter()  # examples run, per family
OUTCOMES: Counter[tuple[str, str]] = Counter()  # (family, "accepted" | reason | "CRASH"), per message
FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip


def _ecma_pattern(validator: Any, pattern: str, instance: Any, _schema: Any) -> Any:
    # JSON Schema patterns are ECMA-262: "$" ends the string. Python's "$" also matches before a final
    # newline, which would let "wear-1\n" pass the reference and blame the decoder for refusing it.
    if validator.is_type(instance, "string") and not re.search(re.sub(r"\$$", r"\\Z", pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _schema(name: str) -> Any:
    strict = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})
    return strict(json.loads((REPO / "gateway/contract" / name).read_text()), format_checker=FormatChecker())


FRAME_SCHEMA = _schema("frame.schema.json")
ROBOT_SCHEMA = _schema("robot_state.schema.json")
JSON_MAX_DEPTH = 200  # the decoder's parser refuses deeper nesting; no contract payload nests past 4


def utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def storable(text: str) -> bool:
    """PostgreSQL text holds any valid UTF-8 except NUL."""
    return utf8(text) and "\x00" not in text


# A reference reader: RFC 8259 JSON, nothing more (no NaN/Infinity, no lone surrogates, finite numbers).
NOT_JSON = object()


def _no_constant(token: str) -> float:
    raise ValueError(f"{token} is not JSON")


def too_deep(value: Any, depth: int = 1) -> bool:
    if depth > JSON_MAX_DEPTH:
        return True
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(too_deep(child, depth + 1) for child in children)


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Seen before a repeated key overwrites them: a value the final document no longer holds is still read.
    for key, value in pairs:
        if not utf8(key) or (isinstance(value, str) and not utf8(value)):
            raise ValueError("lone surrogate")
        if isinstance(value, float) and not np.isfinite(value):
            raise ValueError("number overflows a double")
    return dict(pairs)


def strict_json(payload: bytes) -> Any:
    try:
        value = json.loads(payload.decode("utf-8"), parse_constant=_no_constant, object_pairs_hook=_strict_pairs)
        # Re-encoding finds, at C speed, what json.loads lets through: 1e400 read as infinity, lone surrogates.
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        return NOT_JSON
    return value


def _plain(value: Any) -> Any:
    """A domain record (or a parsed payload) as contract JSON: no nulls, lists, RFC 3339 times."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _parse_ts(text: str) -> datetime:
    # The decoder keeps microseconds: nanosecond digits are truncated, as in the domain record.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    return datetime.fromisoformat(text)


def _expected(ref: dict[str, Any]) -> dict[str, Any]:
    """What the record must hold, read from the reference parse: defaults filled, IMU in float32."""
    imu = ref.get("imu")
    arrays = {axis: imu[axis] for axis in ("acc_ms2", "gyr_rads") if imu.get(axis) is not None} if imu else {}
    doc = _plain({**ref, "imu": {k: v for k, v in imu.items() if k not in arrays}} if imu else ref)
    for axis, samples in arrays.items():
        doc["imu"][axis] = np.asarray(samples, dtype=np.float32).tolist()
    if "robot_id" in doc:
        doc.setdefault("faults", [])
    else:
        for flag in ("sos", "cancel", "checkin"):
            doc.setdefault(flag, False)
        geometry = doc.get("lift", {}).get("geometry")
        if geometry is not None:
            geometry.setdefault("freq_per_min", 1.0)
            geometry.setdefault("duration_h", 2.0)
    return doc


def _distinct_samples(doc: Any) -> Any:
    """The same document with repeated IMU samples listed once: jsonschema is slow on 200 x 3 arrays."""
    imu = doc.get("imu") if isinstance(doc, dict) else None
    if not isinstance(imu, dict):
        return doc
    compact = dict(imu)
    for axis in ("acc_ms2", "gyr_rads"):
        samples = imu.get(axis)
        if isinstance(samples, list) and 1 <= len(samples) <= codec.MAX_SAMPLES:  # length verdict unchanged
            compact[axis] = list({json.dumps(s): s for s in samples}.values())
    return {**doc, "imu": compact}


def check_record(record: Any, payload: bytes, schema: Any) -> None:
    ref = strict_json(payload)
    assert ref is not NOT_JSON, "the decoder accepted a payload that is not RFC 8259 JSON"
    doc = {"v": 1, **_plain(dataclasses.asdict(record))}
    if "tracks_leader" in doc:  # a robot state: it tells its leader apart when the key is sent, even as null
        assert doc.pop("tracks_leader") == (isinstance(ref, dict) and "nearest_other_human_m" in ref)
    compact = _distinct_samples(doc)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in schema.iter_errors(compact)]
    assert not errors, errors
    assert record.ts.utcoffset() == timedelta(0)
    assert NOW - codec.MAX_PAST <= record.ts <= NOW + codec.MAX_FUTURE
    assert all(storable(s) for s in _strings(compact))
    imu = getattr(record, "imu", None)
    if imu is not None:
        n = imu.acc_ms2.shape[0]
        assert imu.acc_ms2.shape == (n, 3) and np.isfinite(imu.acc_ms2).all()
        assert abs(n - imu.rate_hz) <= max(2.0, 0.1 * imu.rate_hz)
    # No parser differential: duplicate keys, escapes and number forms read as the reference reads them.
    expected = _expected(ref)
    assert record.ts == _parse_ts(expected.pop("ts"))
    doc.pop("ts")
    assert doc == expected


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def check_rejection(exc: InvalidFrame, payload: bytes, schema: Any, max_bytes: int) -> None:
    assert exc.reason in codec.REASONS, exc.reason
    assert exc.detail and storable(exc.detail), repr(exc.detail)
    assert (exc.reason == "too_large") == (len(payload) > max_bytes)
    if exc.reason == "too_large":
        return
    ref = strict_json(payload)
    if exc.reason == "bad_json":
        assert ref is NOT_JSON or too_deep(ref), f"valid JSON refused as bad_json: {exc.detail}"
    elif ref is NOT_JSON:
        # A number such as 1e400 parses as infinity, then fails the schema's finite check: either is fine.
        assert exc.reason == "schema", exc.reason
    if exc.reason == "schema" and ref is not NOT_JSON and schema.is_valid(_distinct_samples(ref)):
        # The one forced difference from the published schema: PostgreSQL text cannot hold a NUL.
        assert not all(storable(s) for s in _strings(ref)), "the decoder refused a payload the JSON Schema accepts"


def run(family: str, decode: Any, payload: bytes, subject_id: str, schema: Any, max_bytes: int = 65_536) -> None:
    CASES[family] += 1
    try:
        record = decode(payload, subject_id, NOW, max_bytes)
    except InvalidFrame as exc:
        OUTCOMES[(family, exc.reason)] += 1
        check_rejection(exc, payload, schema, max_bytes)
        return
    except Exception:
        OUTCOMES[(family, "CRASH")] += 1
        raise
    OUTCOMES[(family, "accepted")] += 1
    check_record(record, payload, schema)


# Serialisation that can say what json.dumps cannot: raw tokens and repeated keys.
@dataclasses.dataclass(frozen=True)
class Raw:
    text: str


@dataclasses.dataclass(frozen=True)
class Pairs:
    items: tuple[tuple[str, Any], ...]


def dump(node: Any, ascii_only: bool) -> str:
    """json.dumps (floats: NaN and Infinity tokens; ints: any size), Raw and Pairs spliced in as text."""
    spliced: dict[str, str] = {}
    rows: dict[int, list[Any]] = {}

    def swap(value: Any) -> Any:
        if isinstance(value, Raw | Pairs):
            marker = f"@@{len(spliced)}@@"
            spliced[json.dumps(marker)] = value.text if isinstance(value, Raw) else "{" + ",".join(
                f"{json.dumps(k, ensure_ascii=ascii_only)}:{dump(v, ascii_only)}" for k, v in value.items) + "}"
            return marker
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            if id(value) not in rows:  # IMU arrays repeat one sample list: swap it once
                rows[id(value)] = [swap(v) for v in value]
            return rows[id(value)]
        return value

    text = json.dumps(swap(node), ensure_ascii=ascii_only)
    for marker, raw in spliced.items():
        text = text.replace(marker, raw, 1)
    return text


def encode(node: Any, ascii_only: bool) -> bytes:
    # Lone surrogates become \ud800 escapes (ASCII) or CESU-8 bytes that are not UTF-8 (raw).
    return dump(node, ascii_only).encode("utf-8", "surrogatepass")


def _rfc3339(moment: datetime, offset_min: int, digits: int, zulu: bool) -> str:
    local = moment.astimezone(timezone(timedelta(minutes=offset_min)))
    text = f"{local.year:04d}-{local:%m-%dT%H:%M:%S}"
    if digits:
        text += "." + f"{local.microsecond:06d}{local.microsecond % 997:03d}"[:digits]
    if offset_min == 0 and zulu:
        return text + "Z"
    sign, minutes = ("-" if offset_min < 0 else "+"), abs(offset_min)
    return text + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def timestamps(center: datetime, before: timedelta, after: timedelta) -> st.SearchStrategy[str]:
    """RFC 3339 strings around center (simplest: center itself), in any UTC offset, with 0-9 fraction digits."""
    us = timedelta(microseconds=1)
    moments = st.integers(-(before // us), after // us).map(lambda n: center + n * us)
    return st.builds(_rfc3339, moments, st.integers(-1439, 1439) | st.just(0), st.integers(0, 9), st.booleans())


@functools.cache  # building a strategy costs more than drawing from it
def in_window(now: datetime) -> st.SearchStrategy[str]:
    return timestamps(now, codec.MAX_PAST - timedelta(seconds=1), codec.MAX_FUTURE - timedelta(seconds=1))


IN_WINDOW = in_window(NOW)
FAR = timestamps(NOW, NOW - datetime(2, 1, 1, tzinfo=UTC), datetime(9998, 12, 31, tzinfo=UTC) - NOW)
ODD_TIMES = st.sampled_from([
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0000-01-01T00:00:00Z", "2026-11-26T08:59:60Z",
    "2026-11-26t08:59:59z", "2026-11-26 08:59:59Z", "2026-11-26T08:59:59", "2026-11-26", "1764147599",
    "1764147599.5", "2026-11-26T08:59:59.1234567890Z", "2026-11-26T08:59:59Z\n", " 2026-11-26T08:59:59Z",
    "２０２６-11-26T08:59:59Z", "2026-11-26T08:59:59+24:00", "2026-02-30T00:00:00Z", "2026-W48-4T08:59:59Z",
    "+002026-11-26T08:59:59Z", "2026-11-26T08:59:59.Z", "", "now",
])  # fmt: skip
TOKENS = st.sampled_from([
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E+400", "0x10", "01", "+1", ".5", "1.", "1e", "-",
    "--1", "1_000", "١", "1" + "0" * 400, "-0", "4.9e-324", "1.7976931348623157e308", "true", "null",
])  # fmt: skip
NUMBERS = (st.integers() | st.floats() | st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -1, 0, 1.0])
           | TOKENS.map(Raw))  # fmt: skip
TRICK_STRINGS = st.sampled_from([
    "\u202ewear-1", "wear-1\u200b", "wear\x001", "w\u0435ar-1", "ｗear-1", "wear-1\n", "WEAR-1", " wear-1",
    "\ud800", "\udc00abc", "a" * 65, "a" * 64, "x" * 10_000, "", "..", "-abc", "ab/c", "ab+c", "#",
    "e\u0301", "\ufeffwear-1", "🦺", "\U0010ffff", "\uffff", "robot-01", "trimmer-3\u2066", "mode\x1b[31m",
])  # fmt: skip
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=16) | TRICK_STRINGS
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12) | TRICK_STRINGS, inner, max_size=5),
                           max_leaves=8)  # fmt: skip


def _deep(n: int, arrays: bool) -> Raw:
    return Raw("[" * n + "1" + "]" * n if arrays else '{"a":' * n + "1" + "}" * n)


DEEP = st.builds(_deep, st.integers(150, 30_000), st.booleans())


def _huge(n: int, item: str) -> Raw:
    return Raw("[" + ",".join([item] * n) + "]")


HUGE_ARRAYS = st.builds(_huge, st.sampled_from([221, 1_000, 100_000]), st.sampled_from(["[0,0,9.8]", '"x"', "1"]))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:2]):
            found += _paths(value, (*prefix, index))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(node, dict):
        return {**node, head: _replace(node[head], tuple(rest), value)}
    copy = list(node)
    copy[head] = _replace(copy[head], tuple(rest), value)
    return copy


@st.composite
def mutate(draw: st.DrawFn, doc: Any) -> Any:
    """One value of a contract document replaced: wrong type, odd number or string, odd field value."""
    path = draw(st.sampled_from(_paths(doc)[1:] or [()]))
    match draw(st.sampled_from(["type", "number", "string", "imu", "ts", "seq", "id", "huge", "deep"])):
        case "type":
            return _replace(doc, path, draw(JSON_VALUES))
        case "number":
            return _replace(doc, path, draw(NUMBERS))
        case "string":
            return _replace(doc, path, draw(TRICK_STRINGS | st.text(max_size=80)))
        case "imu" if isinstance(doc, dict):
            n, rate = draw(st.integers(0, 260)), draw(st.floats(-10, 300) | st.integers(0, 300))
            imu: dict[str, Any] = {"rate_hz": rate, "acc_ms2": [[0.5, -9.8, 0.1]] * n}
            if draw(st.booleans()):
                imu["gyr_rads"] = [[0.0, 0.1, 0.0]] * (n + draw(st.integers(-2, 2)))
            return {**doc, "imu": imu}
        case "ts" if isinstance(doc, dict):
            return {**doc, "ts": draw(FAR | ODD_TIMES | IN_WINDOW | NUMBERS)}
        case "id" if isinstance(doc, dict):
            return {**doc, ("robot_id" if "robot_id" in doc else "device_id"): draw(IDS)}
        case "seq" if isinstance(doc, dict):
            return {**doc, "seq": draw(NUMBERS | st.text(max_size=5))}
        case "huge":
            return _replace(doc, path, draw(HUGE_ARRAYS))
        case "deep":
            return _replace(doc, path, draw(DEEP))
    return doc


@st.composite
def reshape(draw: st.DrawFn, doc: Any) -> Any:
    """One object of a contract document reshaped: a key dropped, added or repeated (as Pairs)."""
    objects = [p for p in _paths(doc) if isinstance(_at(doc, p), dict) and _at(doc, p)]
    if not objects:
        return doc
    where = draw(st.sampled_from(objects))
    target = _at(doc, where)
    key = draw(st.sampled_from(sorted(target)))
    match draw(st.sampled_from(["drop", "extra", "duplicate"])):
        case "drop":
            return _replace(doc, where, {k: v for k, v in target.items() if k != key})
        case "extra":
            extra = draw(st.text(max_size=10) | TRICK_STRINGS | st.sampled_from(["agent_id", "V", "seq\x00"]))
            return _replace(doc, where, {**target, extra: draw(SCALARS)})
    repeated = (key, draw(SCALARS | st.just(target[key])))
    items = tuple(target.items())
    return _replace(doc, where, Pairs((repeated, *items) if draw(st.booleans()) else (*items, repeated)))


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


FRAME_OPTIONAL = ["imu", "hr_bpm", "skin_temp_c", "noise", "env", "hav", "wbv", "lift", "gps", "battery_pct",
                  "sos", "cancel"]  # fmt: skip
ROBOT_OPTIONAL = ["pose", "speed_ms", "battery_pct", "mode", "estop", "protective_stop", "nearest_human_m",
                  "payload_kg", "faults", "nearest_other_human_m"]  # fmt: skip
STORABLE_TEXT = st.text(max_size=20).filter(storable)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# The contract's id pattern: its edges, and short random ids (each character costs a draw).
IDS = st.sampled_from(["wear-1", "robot-01", "x" * 64, "Z-", "a..b", "0", "A_b.c-d"]) | st.builds(
    str.__add__, st.sampled_from(_ALNUM), st.text(_ALNUM + "_.-", max_size=8))


def _without(doc: dict[str, Any], optional: list[str], mask: int) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in optional or not mask >> optional.index(k) & 1}


SEQS = st.integers(0, 2**63 - 1)
RATES = st.integers(20, 200)
RATE_SLACK = st.integers(-2, 2)
ACCELERATIONS = st.floats(-2000, 2000) | st.sampled_from([0, -2000, 2000, 1e-300])
FRAME_MASKS = st.integers(0, 2 ** len(FRAME_OPTIONAL) - 1)
ROBOT_MASKS = st.integers(0, 2 ** len(ROBOT_OPTIONAL) - 1)
KINDS = st.from_regex(r"\A[a-z][a-z0-9_]{0,31}\Z")


@st.composite
def valid_frame(draw: st.DrawFn, now: datetime = NOW) -> dict[str, Any]:
    doc = full_frame(device_id=draw(IDS), seq=draw(SEQS), ts=draw(in_window(now)))
    rate = draw(RATES)
    sample = [draw(ACCELERATIONS), -9.8, draw(ACCELERATIONS)]
    doc["imu"] = {"rate_hz": rate, "acc_ms2": [sample] * (rate + draw(RATE_SLACK))}
    return _without(doc, FRAME_OPTIONAL, draw(FRAME_MASKS))


@st.composite
def valid_robot_state(draw: st.DrawFn, now: datetime = NOW) -> dict[str, Any]:
    doc = robot_state(robot_id=draw(IDS), seq=draw(SEQS), ts=draw(in_window(now)),
                      kind=draw(KINDS), faults=draw(st.lists(STORABLE_TEXT, max_size=3)),
                      nearest_other_human_m=draw(st.none() | st.floats(0, 1000)))  # fmt: skip
    return _without(doc, ROBOT_OPTIONAL, draw(ROBOT_MASKS))


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]], id_key: str) -> tuple[bytes, str]:
    """(payload, topic id): a valid document with 0-3 mutations, serialised with or without escapes."""
    doc = draw(base)
    subject_id = doc[id_key]
    for _ in range(draw(st.integers(0, 3))):
        doc = draw(mutate(doc) | reshape(doc))
    return encode(doc, ascii_only=draw(st.booleans())), subject_id


JSON_PAYLOADS = st.builds(encode, JSON_VALUES | DEEP | st.dictionaries(
    st.sampled_from([*FRAME_OPTIONAL, "v", "device_id", "robot_id", "seq", "ts", "kind"]), JSON_VALUES, max_size=8,
), st.booleans())  # fmt: skip


@settings(FUZZ, max_examples=2800)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash_the_frame_decoder(payload):
    run("frame/bytes", codec.decode_frame, payload, "wear-1", FRAME_SCHEMA)


@settings(FUZZ, max_examples=2000)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash_the_robot_state_decoder(payload):
    run("robot/bytes", codec.decode_robot_state, payload, "robot-01", ROBOT_SCHEMA)


@settings(FUZZ, max_examples=600)
@given(JSON_PAYLOADS)
def test_arbitrary_json_never_crashes_the_frame_decoder(payload):
    run("frame/json", codec.decode_frame, payload, "wear-1", FRAME_SCHEMA)


@settings(FUZZ, max_examples=400)
@given(JSON_PAYLOADS)
def test_arbitrary_json_never_crashes_the_robot_state_decoder(payload):
    run("robot/json", codec.decode_robot_state, payload, "robot-01", ROBOT_SCHEMA)


@settings(FUZZ, max_examples=2600)
@given(mutated(valid_frame(), "device_id"), st.sampled_from([65_536] * 5 + [4 << 20]))
def test_mutated_frames_decode_to_contract_records_or_a_known_reason(case, max_bytes):
    payload, device_id = case
    run("frame/mutation", codec.decode_frame, payload, device_id, FRAME_SCHEMA, max_bytes)


@settings(FUZZ, max_examples=1800)
@given(mutated(valid_robot_state(), "robot_id"), st.sampled_from([65_536] * 5 + [4 << 20]))
def test_mutated_robot_states_decode_to_contract_records_or_a_known_reason(case, max_bytes):
    payload, robot_id = case
    run("robot/mutation", codec.decode_robot_state, payload, robot_id, ROBOT_SCHEMA, max_bytes)


TOPIC_IDS = IDS | TRICK_STRINGS.filter(lambda s: "\x00" not in s and storable(s))
# MQTT 5 §1.5.4: topic names are well-formed UTF-8 without U+0000; the broker refuses anything else.
MQTT_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
TOPICS = (st.builds("vigie/v1/wearables/{}/frame".format, TOPIC_IDS)
          | st.builds("vigie/v1/robots/{}/state".format, TOPIC_IDS)
          | st.builds("vigie/v1/wearables/{}/status".format, TOPIC_IDS)
          | st.sampled_from(["vigie/v1/wearables/a/b/frame", "vigie/v1/robots/r/command", "vigie/v2/robots/r/state",
                             "vigie/v1/wearables//frame", "$SYS/broker/load", "vigie/v1/wearables/+/frame", "",
                             "vigie/v1/wearables/wear-1/frame/", "/vigie/v1/wearables/wear-1/frame"])
          | MQTT_TEXT)  # fmt: skip
PAYLOADS = (st.binary(max_size=64) | st.sampled_from([b"online", b"offline", b"OFFLINE\n", b"", b"onl\xffine"])
            | mutated(valid_frame(), "device_id").map(lambda c: c[0])
            | mutated(valid_robot_state(), "robot_id").map(lambda c: c[0])
            | st.integers(65_537, 200_000).map(lambda n: b"{" + b" " * (n - 2) + b"}"))  # fmt: skip
SETTINGS = Settings(mode="demo")


@settings(FUZZ, max_examples=500)
@given(st.lists(st.tuples(TOPICS, PAYLOADS), min_size=1, max_size=4))
def test_a_batch_on_any_topic_sorts_every_message_and_never_raises(messages):
    CASES["batch"] += 1
    batch = [Incoming(topic, payload, i, 1, 1, NOW) for i, (topic, payload) in enumerate(messages)]
    try:
        out = decode_batch(batch, SETTINGS, NOW)
    except Exception:
        OUTCOMES[("batch", "CRASH")] += 1
        raise
    # An empty payload on a status topic only clears the retained status: neither a record nor a rejection.
    cleared = sum(1 for t, p in messages if not p and (k := topics.parse(t)) and k.kind is topics.TopicKind.STATUS)
    assert len(out.frames) + len(out.robots) + len(out.statuses) + len(out.dead) + cleared == len(batch)
    for letter in out.dead:
        OUTCOMES[("batch", letter.reason)] += 1
        assert letter.reason in codec.REASONS | {"unknown_topic"}
        assert all(storable(text) for text in (letter.topic[:256], letter.detail, letter.excerpt()))
    OUTCOMES[("batch", "accepted")] += len(batch) - len(out.dead)


def test_every_reason_the_codec_gives_is_documented_in_the_contract():
    contract = (REPO / "docs/contract.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", contract.split("## Rejections", 1)[1].split("\n## ", 1)[0]))
    assert documented >= codec.REASONS


def test_a_timestamp_beyond_the_datetime_range_is_rejected_not_crashed():
    base = b'{"v":1,"device_id":"wear-1","seq":1,"ts":"%s"}'
    for ts, reason in [(b"9999-12-31T23:59:59-23:59", "ts_in_future"), (b"0001-01-01T00:00:00+23:59", "ts_too_old")]:
        with pytest.raises(InvalidFrame) as info:
            codec.decode_frame(base % ts, "wear-1", NOW)
        assert info.value.reason == reason


def test_a_nul_character_in_free_text_is_rejected_as_unstorable():
    hav = {"tool_id": "trimmer\x003", "ahv_ms2": 1, "trigger_s": 0.5}
    with pytest.raises(InvalidFrame) as info:
        codec.decode_frame(json.dumps(full_frame(hav=hav)).encode(), "wear-1", NOW)
    assert info.value.reason == "schema" and "NUL" in info.value.detail
    for state in [robot_state(mode="a\x00"), robot_state(faults=["lidar\x00"])]:
        with pytest.raises(InvalidFrame):
            codec.decode_robot_state(json.dumps(state).encode(), "robot-01", NOW)
    state = robot_state(mode="suivi", faults=["capteur avant: hors service\n(code 7)"])
    assert codec.decode_robot_state(json.dumps(state).encode(), "robot-01", NOW).faults[0].endswith("(code 7)")


def test_a_rejection_detail_quoting_a_nul_key_is_storable():
    with pytest.raises(InvalidFrame) as info:
        codec.decode_frame(b'{"v":1,"device_id":"wear-1","seq":1,"ts":"2026-11-26T08:59:59Z","a\\u0000":1}',
                           "wear-1", NOW)  # fmt: skip
    assert storable(info.value.detail) and "\\u0000" in info.value.detail


def test_timestamps_outside_the_contract_profile_are_rejected():
    for ts in ["2026-11-26t08:59:59z", "2026-11-26 08:59:59Z", "1764147599", "2026-11-26T08:59:59Z\n"]:
        with pytest.raises(InvalidFrame) as info:
            codec.decode_frame(json.dumps(full_frame(ts=ts)).encode(), "wear-1", NOW)
        assert info.value.reason == "schema"


def test_integral_floats_are_integers_and_booleans_are_not():
    frame = codec.decode_frame(json.dumps(full_frame(v=1.0, seq=42.0)).encode(), "wear-1", NOW)
    assert frame.seq == 42 and isinstance(frame.seq, int)
    for override in [{"v": True}, {"seq": True}, {"seq": 42.5}]:
        with pytest.raises(InvalidFrame):
            codec.decode_frame(json.dumps(full_frame(**override)).encode(), "wear-1", NOW)


@pytest.fixture(scope="module", autouse=True)
def fuzz_report(request: pytest.FixtureRequest):
    """After the module: the figures per family, for docs/reliability.md."""
    yield
    if not OUTCOMES:
        return
    families: dict[str, dict[str, Any]] = {family: {"cases": n, "outcomes": {}} for family, n in sorted(CASES.items())}
    for (family, outcome), count in sorted(OUTCOMES.items()):
        families[family]["outcomes"][outcome] = count
    crashes = sum(v for (_, outcome), v in OUTCOMES.items() if outcome == "CRASH")
    summary = {"cases": sum(CASES.values()), "crashes": crashes, "families": families}
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "codec-fuzz.json").write_text(json.dumps(summary, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\ncodec fuzz: {json.dumps(summary)}")


def test_a_repeated_key_cannot_hide_a_nan_token_from_the_decoder():
    payload = (b'{"battery_pct":Infinity,"v":1,"device_id":"wear-1","seq":0,"ts":"2026-11-26T08:00:00Z",'
               b'"battery_pct":81}')
    with pytest.raises(InvalidFrame) as info:
        codec.decode_frame(payload, "wear-1", NOW)
    assert info.value.reason == "bad_json"
