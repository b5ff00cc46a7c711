"""Decoding at the edge: valid contract payloads become domain records; anything else a stable reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import msgspec
import numpy as np
import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from gateway.mqtt import codec, wire
from services.errors import InvalidFrame
from services.model import DeviceLink

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TS = "2026-11-26T08:59:59Z"


def _schema(name: str) -> Draft202012Validator:
    text = resources.files("gateway.contract").joinpath(name).read_text()
    return Draft202012Validator(json.loads(text), format_checker=FormatChecker())


FRAME_SCHEMA = _schema("frame.schema.json")
ROBOT_SCHEMA = _schema("robot_state.schema.json")


def full_frame(**overrides: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "v": 1, "device_id": "wear-1", "seq": 42, "ts": TS,
        "imu": {"rate_hz": 50, "acc_ms2": [[0.1, -9.8, 0.3]] * 50, "gyr_rads": [[0.0, 0.01, 0.0]] * 50},
        "hr_bpm": 96, "skin_temp_c": 34.2, "noise": {"laeq_db": 78.5, "lcpeak_db": 121.0},
        "env": {"temp_c": 24.0, "rh_pct": 55, "globe_temp_c": 31.0},
        "hav": {"tool_id": "trimmer-3", "ahv_ms2": 6.5, "trigger_s": 1.0},
        "wbv": {"aw_ms2": [0.3, 0.2, 0.5], "duration_s": 1.0}, "lift": {"count": 1, "load_kg": 18.0, "geometry": {
            "h_cm": 40, "v_cm": 30, "d_cm": 60, "a_deg": 30, "coupling": "fair", "freq_per_min": 2}},
        "gps": {"lat": 48.8566, "lon": 2.3522, "acc_m": 4.0}, "battery_pct": 81, "sos": False, "cancel": False,
    }  # fmt: skip
    frame.update(overrides)
    return frame


def decode(payload: dict[str, Any] | bytes, device: str = "wear-1"):
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return codec.decode_frame(raw, device, NOW)


def reason_of(payload: dict[str, Any] | bytes, device: str = "wear-1") -> str:
    with pytest.raises(InvalidFrame) as info:
        decode(payload, device)
    return info.value.reason


def test_a_full_frame_decodes_into_a_domain_frame_with_units_and_utc_time():
    frame = decode(full_frame())
    assert frame.device_id == "wear-1" and frame.seq == 42
    assert frame.ts == datetime(2026, 11, 26, 8, 59, 59, tzinfo=UTC)
    assert frame.imu is not None and frame.imu.acc_ms2.shape == (50, 3)
    assert frame.noise is not None and frame.noise.laeq_db == 78.5
    assert frame.hav is not None and frame.hav.tool_id == "trimmer-3"
    assert frame.wbv is not None and frame.wbv.aw_ms2 == (0.3, 0.2, 0.5)
    assert frame.lift is not None and frame.lift.geometry is not None
    assert (frame.lift.geometry.coupling, frame.lift.geometry.duration_h) == ("fair", 2.0)


def test_a_minimal_frame_needs_only_version_device_seq_and_time():
    frame = decode({"v": 1, "device_id": "wear-1", "seq": 0, "ts": TS})
    assert frame.imu is None and frame.sos is False


def test_a_timestamp_with_an_offset_is_converted_to_utc():
    frame = decode(full_frame(ts="2026-11-26T09:59:59+01:00"))
    assert frame.ts == datetime(2026, 11, 26, 8, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{not json", "bad_json"),
    (b"", "bad_json"),
    (b"\xff\xfe", "bad_json"),
    (b"[1, 2]", "schema"),
    (b'{"v":1,"device_id":"wear-1","seq":1,"ts":"2026-11-26T08:59:59Z","hr_bpm":NaN}', "schema"),
    (b'{"v":1,"device_id":"wear-1","seq":1,"ts":"2026-11-26T08:59:59Z","hr_bpm":1e999}', "schema"),
    (full_frame(seq="42"), "schema"),
    (full_frame(seq=-1), "schema"),
    (full_frame(seq=1.5), "schema"),
    (full_frame(v=2), "schema"),
    (full_frame(sos="yes"), "schema"),
    (full_frame(ts="2026-11-26T08:59:59"), "schema"),
    (full_frame(ts=1764147599), "schema"),
    (full_frame(hr_bpm=400), "schema"),
    (full_frame(agent_id="agent-7"), "schema"),
    (full_frame(noise={"laeq_db": "loud"}), "schema"),
    (full_frame(imu={"rate_hz": 50, "acc_ms2": [[0, 0]] * 50}), "schema"),
    (full_frame(imu={"rate_hz": 50, "acc_ms2": [[0, 0, 0]] * 10}), "imu_rate_mismatch"),
    (full_frame(imu={"rate_hz": 50, "acc_ms2": [[0, 0, 0]] * 50, "gyr_rads": [[0, 0, 0]] * 49}),
     "imu_length_mismatch"),
    (full_frame(imu={"rate_hz": 500, "acc_ms2": [[0, 0, 0]] * 500}), "schema"),
    (full_frame(ts="2026-11-27T09:00:00Z"), "ts_in_future"),
    (full_frame(ts="2025-01-01T00:00:00Z"), "ts_too_old"),
    (full_frame(device_id="wear-2"), "id_mismatch"),
    (full_frame(device_id="wear/1"), "schema"),
    (b"{" * 5000 + b"}" * 5000, "bad_json"),
])  # fmt: skip
def test_bad_payloads_are_rejected_with_a_stable_reason(payload, reason):
    assert reason_of(payload) == reason


def test_an_oversized_payload_is_rejected_before_parsing():
    assert reason_of(b" " * 70_000) == "too_large"


def test_unicode_tricks_in_ids_are_rejected():
    assert reason_of(full_frame(device_id="wear-1\u200b"), device="wear-1") == "schema"
    assert reason_of(full_frame(device_id="wéar"), device="wéar") == "schema"


# The JSON Schemas are the published contract: what they accept, the decoder accepts, and vice versa,
# except the semantic checks no schema can express (listed here).
SEMANTIC_ONLY = {"imu_rate_mismatch", "imu_length_mismatch", "ts_in_future", "ts_too_old", "id_mismatch"}
CASES: list[dict[str, Any]] = [
    full_frame(), {"v": 1, "device_id": "w", "seq": 0, "ts": TS}, full_frame(seq="1"), full_frame(v=2),
    full_frame(hr_bpm=10), full_frame(extra=1), full_frame(noise={"lcpeak_db": 130}),
    full_frame(env={"temp_c": 20, "rh_pct": 101}), full_frame(hav={"ahv_ms2": 3, "trigger_s": 2}),
    full_frame(lift={"count": 1.5, "load_kg": 5}), full_frame(gps={"lat": 91, "lon": 0}),
    full_frame(wbv={"aw_ms2": [1, 2], "duration_s": 1}), full_frame(cancel=True), full_frame(sos=1),
    full_frame(lift={"count": 1, "load_kg": 5, "geometry": {"h_cm": 30, "v_cm": 50, "d_cm": 20, "a_deg": 0,
                                                           "coupling": "bad"}}),
    full_frame(lift={"count": 1, "load_kg": 5, "geometry": {"h_cm": 30, "v_cm": 50, "d_cm": 20}}),
    full_frame(ts="not a time"), full_frame(battery_pct=-1), full_frame(imu={"rate_hz": 19, "acc_ms2": [[0, 0, 0]]}),
]  # fmt: skip


@pytest.mark.parametrize("payload", CASES)
def test_decoder_and_published_json_schema_agree(payload):
    schema_ok = FRAME_SCHEMA.is_valid(payload)
    try:
        decode(payload)
        decoder_ok = True
    except InvalidFrame as exc:
        decoder_ok = exc.reason in SEMANTIC_ONLY and schema_ok
    assert decoder_ok == schema_ok


def robot_state(**overrides: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "v": 1, "robot_id": "robot-01", "seq": 9, "ts": TS, "kind": "follower",
        "pose": {"x_m": 12.5, "y_m": -3.0, "yaw_rad": 1.2, "lat": 48.85, "lon": 2.35}, "speed_ms": 1.1,
        "battery_pct": 77, "mode": "follow", "estop": False, "protective_stop": True, "nearest_human_m": 1.4,
        "payload_kg": 60.0, "faults": [],
    }  # fmt: skip
    state.update(overrides)
    return state


def test_a_robot_state_decodes_and_matches_its_schema():
    payload = robot_state()
    assert ROBOT_SCHEMA.is_valid(payload)
    state = codec.decode_robot_state(orjson.dumps(payload), "robot-01", NOW)
    assert state.protective_stop is True and state.pose is not None and state.pose.x_m == 12.5


def test_a_robot_tells_its_leader_apart_by_sending_the_nearest_other_person_even_as_null():
    assert ROBOT_SCHEMA.is_valid(robot_state(nearest_other_human_m=None))
    alone = codec.decode_robot_state(orjson.dumps(robot_state(nearest_other_human_m=None)), "robot-01", NOW)
    other = codec.decode_robot_state(orjson.dumps(robot_state(nearest_other_human_m=2.5)), "robot-01", NOW)
    unknown = codec.decode_robot_state(orjson.dumps(robot_state()), "robot-01", NOW)
    assert (alone.tracks_leader, alone.nearest_other_human_m) == (True, None)
    assert (other.tracks_leader, other.nearest_other_human_m) == (True, 2.5)
    assert (unknown.tracks_leader, unknown.nearest_other_human_m) == (False, None)


@pytest.mark.parametrize("override", [
    {"kind": "Follower"}, {"nearest_human_m": -1}, {"nearest_other_human_m": -0.5}, {"nearest_other_human_m": "far"},
    {"faults": ["x" * 200]}, {"robot_id": "robot-02"},
    {"speed_ms": float("inf")}, {"pose": {"x_m": 1}},
])  # fmt: skip
def test_bad_robot_states_are_rejected(override):
    with pytest.raises(InvalidFrame):
        codec.decode_robot_state(orjson.dumps(robot_state(**override), option=orjson.OPT_SERIALIZE_NUMPY)
                                 if "speed_ms" not in override else
                                 b'{"v":1,"robot_id":"robot-01","seq":1,"ts":"' + TS.encode()
                                 + b'","kind":"mower","speed_ms":Infinity}', "robot-01", NOW)


def test_status_payloads_are_online_or_offline_only():
    assert codec.decode_status(b"online") is DeviceLink.ONLINE
    assert codec.decode_status(b"offline\n") is DeviceLink.OFFLINE
    with pytest.raises(InvalidFrame):
        codec.decode_status(b"maybe")


def test_the_time_window_accepts_a_backfill_of_several_days():
    old = (NOW - timedelta(days=6)).isoformat().replace("+00:00", "Z")
    assert decode(full_frame(ts=old)).ts == NOW - timedelta(days=6)


@pytest.mark.parametrize("hidden", [b"NaN", b"Infinity", b"1e400", b"-1E+999", b'"\\ud800"'])
def test_a_value_json_does_not_have_is_refused_even_when_a_repeated_key_hides_it(hidden):
    # pydantic's parser reads these and the last of two keys wins, so only the strict parse can refuse them: the
    # decoder must not skip it for such payloads (found by tests/unit/test_codec_fuzz.py).
    good = orjson.dumps(full_frame())
    payload = b'{"battery_pct":' + hidden + b"," + good[1:]
    assert reason_of(payload) == "bad_json"


# What the msgspec decoder must do as the pydantic one did (and the fuzz test's RFC 8259 reference expects).
def with_key_first(key: str, token: bytes) -> bytes:
    """The full frame with ``key`` written twice: ``token`` (raw JSON text) first, the frame's own value last."""
    return b'{"' + key.encode() + b'":' + token + b"," + orjson.dumps(full_frame())[1:]


def with_raw(**raw_values: bytes) -> bytes:
    """The full frame with these keys' values written as raw JSON text (NaN, 1e400, invalid UTF-8...)."""
    payload = orjson.dumps({k: v for k, v in full_frame().items() if k not in raw_values})[:-1]
    return payload + b"".join(b',"' + k.encode() + b'":' + v for k, v in raw_values.items()) + b"}"


def test_a_repeated_key_is_read_as_its_last_value_even_when_the_first_is_out_of_range():
    # msgspec validates every value it reads; RFC 8259 parsers keep the last, and so does the decoder.
    assert decode(with_key_first("hr_bpm", b"400")).hr_bpm == 96
    assert decode(with_key_first("seq", b'"x"')).seq == 42
    assert decode(with_key_first("imu", b"[[[1]]]")).imu is not None
    assert reason_of(b"{" + orjson.dumps(full_frame())[1:-1] + b',"hr_bpm":400}') == "schema"


@pytest.mark.parametrize("token", [b"1e400", b"-1e400", b"NaN", b"Infinity", b"-Infinity", b'"\\udc00"'])
def test_a_repeated_key_does_not_let_an_infinite_or_not_json_value_through(token):
    assert reason_of(with_key_first("hr_bpm", token)) == "bad_json"


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1E+999"])
def test_a_non_finite_number_is_a_schema_error_at_its_field(token):
    with pytest.raises(InvalidFrame) as info:
        decode(with_raw(hr_bpm=token))
    assert info.value.reason == "schema" and info.value.detail.startswith("hr_bpm: ")


@pytest.mark.parametrize("text", [b'"\xff"', b'"\xed\xa0\x80"', b'"\xc3"', b'"\\ud800"', b'"\\ud800\\u0041"'])
def test_invalid_utf8_and_lone_surrogates_in_a_string_are_bad_json(text):
    assert reason_of(with_raw(hav=b'{"tool_id":' + text + b',"ahv_ms2":1,"trigger_s":1}')) == "bad_json"
    assert reason_of(b"{" + text + b":1," + orjson.dumps(full_frame())[1:]) == "bad_json"  # as a key


def test_a_surrogate_pair_and_escaped_backslashes_are_text():
    frame = decode(with_raw(hav=b'{"tool_id":"\\ud83e\\uddba \\\\ud800","ahv_ms2":1,"trigger_s":1}'))
    assert frame.hav is not None and frame.hav.tool_id == "\U0001f9ba \\ud800"


@pytest.mark.parametrize(("override", "robot"), [
    ({"device_id": "wear-1\n"}, None), ({"ts": "2026-11-26T08:59:59Z\n"}, None),
    (None, {"robot_id": "robot-01\n"}), (None, {"kind": "mower\n"}),
])  # fmt: skip
def test_patterns_end_at_the_end_of_the_string_not_before_a_final_newline(override, robot):
    # JSON Schema patterns are ECMA-262, where "$" is the end; in Python's re, "$" also matches before a "\n".
    with pytest.raises(InvalidFrame) as info:
        if robot is None:
            decode(full_frame(**override), device=override.get("device_id", "wear-1"))
        else:
            codec.decode_robot_state(orjson.dumps(robot_state(**robot)), robot.get("robot_id", "robot-01"), NOW)
    assert info.value.reason == "schema"


@pytest.mark.parametrize("ts", ["2026-11-26T09:59:59+01:60", "2026-11-26T08:59:59-00:99", "2026-11-26T24:00:00Z",
                                "2026-11-26T08:59:60Z", "2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z"])  # fmt: skip
def test_timestamps_the_pattern_lets_through_but_rfc_3339_does_not_are_refused(ts):
    assert reason_of(full_frame(ts=ts)) == "schema"


def test_fraction_digits_past_the_microsecond_are_truncated():
    assert decode(full_frame(ts="2026-11-26T08:59:59.123456789Z")).ts.microsecond == 123456


@pytest.mark.parametrize(("value", "decoded"), [(b"42", 42), (b"42.0", 42), (b"4.2e1", 42), (b"1e18", 10**18),
                                                (b"9223372036854775807", 2**63 - 1)])  # fmt: skip
def test_seq_is_any_json_number_that_is_an_integer(value, decoded):
    seq = decode(with_raw(seq=value)).seq
    assert seq == decoded and isinstance(seq, int)


@pytest.mark.parametrize("value", [b"true", b"42.5", b"-1", b"9223372036854775808", b"1e19", b"1" + b"0" * 40,
                                   b'"42"', b"null", b"[42]"])  # fmt: skip
def test_seq_that_is_not_a_bigint_integer_is_refused(value):
    assert reason_of(with_raw(seq=value)) == "schema"


def test_nesting_deeper_than_200_levels_is_bad_json_unless_a_repeated_key_replaced_it():
    def nested(levels: int) -> bytes:  # the frame object is the first level
        return b"[" * (levels - 1) + b"1" + b"]" * (levels - 1)

    assert reason_of(with_raw(extra=nested(200))) == "schema"  # an unknown key
    assert reason_of(with_raw(extra=nested(201))) == "bad_json"
    assert reason_of(with_raw(extra=nested(5000))) == "bad_json"
    # Read as every JSON parser here reads it, the payload holds no such value (the fuzz reference agrees).
    assert decode(with_key_first("hr_bpm", nested(201))).hr_bpm == 96


def test_a_schema_error_names_the_field_path_as_before():
    details = {
        "imu.acc_ms2.3.2": full_frame(imu={"rate_hz": 50, "acc_ms2": [[0, 0, 1]] * 3 + [[0, 0, 9e9]] * 47}),
        "agent_id": full_frame(agent_id="agent-7"),
        "noise.laeq_db": full_frame(noise={"lcpeak_db": 1}),
        "ts": full_frame(ts="2026-11-26 08:59:59Z"),
        "seq": full_frame(seq=1.5),
        "(payload)": [1, 2],
    }
    for path, payload in details.items():
        with pytest.raises(InvalidFrame) as info:
            decode(orjson.dumps(payload))
        assert info.value.reason == "schema" and info.value.detail.startswith(f"{path}: "), info.value.detail


def test_every_reason_is_still_given():
    seen = {reason_of(payload, device) for payload, device in [
        (b"{", "wear-1"), (full_frame(seq=-1), "wear-1"), (b" " * 70_000, "wear-1"), (full_frame(), "wear-2"),
        (full_frame(imu={"rate_hz": 50, "acc_ms2": [[0, 0, 0]] * 10}), "wear-1"),
        (full_frame(imu={"rate_hz": 50, "acc_ms2": [[0, 0, 0]] * 50, "gyr_rads": [[0, 0, 0]]}), "wear-1"),
        (full_frame(ts="2026-11-27T09:00:00Z"), "wear-1"), (full_frame(ts="2025-01-01T00:00:00Z"), "wear-1"),
    ]}  # fmt: skip
    with pytest.raises(InvalidFrame) as info:
        codec.decode_status(b"maybe")
    assert seen | {info.value.reason} == codec.REASONS


def test_the_imu_is_float32_samples_by_axis_as_read():
    acc = [[0.1 * k, -9.80665, 2000.0] for k in range(50)]
    gyr = [[-100.0, 1e-300, 0.333333333333] for _ in range(50)]
    imu = decode(full_frame(imu={"rate_hz": 50, "acc_ms2": acc, "gyr_rads": gyr})).imu
    assert imu is not None and imu.gyr_rads is not None
    assert imu.acc_ms2.dtype == imu.gyr_rads.dtype == np.float32 and imu.acc_ms2.shape == imu.gyr_rads.shape == (50, 3)
    assert np.array_equal(imu.acc_ms2, np.asarray(acc, dtype=np.float32))
    assert np.array_equal(imu.gyr_rads, np.asarray(gyr, dtype=np.float32))


KEYWORDS = ("type", "minimum", "maximum", "minItems", "maxItems", "maxLength", "pattern", "required",
            "additionalProperties", "enum", "const")  # fmt: skip


def constraints(root: dict[str, Any], node: dict[str, Any] | None = None, path: str = "") -> dict[str, Any]:
    """Each property's and item's constraints, by path: nulls dropped (the decoder takes null for an absent
    optional value, as it always has), ECMA anchors for Python's, repeated tuple items as one."""
    node = root if node is None else node
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    branches = [b for b in node.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        return constraints(root, branches[0], path)
    found = {k: sorted(node[k]) if k in ("required", "enum") else node[k] for k in KEYWORDS if k in node}
    if isinstance(found.get("type"), list):
        found["type"] = [t for t in found["type"] if t != "null"]
        found["type"] = found["type"][0] if len(found["type"]) == 1 else found["type"]
    if "pattern" in found:
        found["pattern"] = found["pattern"].replace("\\A", "^").replace("\\Z", "$")
    out = {path or "(payload)": found | ({"anyOf": branches} if branches else {})}
    for name, child in node.get("properties", {}).items():
        out |= constraints(root, child, f"{path}.{name}".lstrip("."))
    items = node.get("prefixItems") or [node.get("items")]
    if isinstance(items[0], dict) and all(item == items[0] for item in items):
        out |= constraints(root, items[0], f"{path}[]")
    return out


@pytest.mark.parametrize(("model", "contract"), [(wire.FrameIn, "frame.schema.json"),
                                                 (wire.RobotStateIn, "robot_state.schema.json")])  # fmt: skip
def test_the_decoders_structs_hold_every_constraint_of_the_published_json_schema(model, contract):
    published = constraints(json.loads(resources.files("gateway.contract").joinpath(contract).read_text()))
    decoded = constraints(msgspec.json.schema(model))
    # JSON integers are int | float to msgspec (42.0 is 42): the codec checks their bounds after decoding.
    for path, (low, high) in wire.INTEGER_BOUNDS.items():
        if path in decoded:
            assert decoded.pop(path) == {"anyOf": [{"type": "integer"}, {"type": "number"}]}
            assert published.pop(path) == ({"const": low} if low == high else
                                           {"type": "integer", "minimum": low, "maximum": high})  # fmt: skip
    assert decoded == published
