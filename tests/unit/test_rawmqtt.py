"""The raw MQTT 5 publisher's packets, byte for byte against examples built by hand from OASIS MQTT 5.0."""

from __future__ import annotations

import pytest

from benchmarks.load import payloads, rawmqtt


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),  # §1.5.5 Table 1-1: the largest one-byte value
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
        (2_097_151, b"\xff\xff\x7f"),
        (2_097_152, b"\x80\x80\x80\x01"),
        (268_435_455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_is_a_variable_byte_integer(value: int, encoded: bytes) -> None:
    assert rawmqtt.encode_varint(value) == encoded
    assert rawmqtt.decode_varint(b"\x30" + encoded + b"rest", 1) == (value, 1 + len(encoded))


def test_a_varint_cut_short_is_incomplete_and_a_fifth_byte_is_malformed() -> None:
    assert rawmqtt.decode_varint(b"\x30\x80", 1) is None
    with pytest.raises(rawmqtt.MqttError, match="more than 4 bytes"):
        rawmqtt.decode_varint(b"\x80\x80\x80\x80\x01", 0)
    with pytest.raises(ValueError):
        rawmqtt.encode_varint(268_435_456)


def test_connect_is_mqtt5_clean_start_with_username_and_password() -> None:
    expected = (
        b"\x10\x15"  # CONNECT, Remaining Length 21
        b"\x00\x04MQTT\x05"  # §3.1.2.1-2: protocol name, version 5
        b"\xc2"  # §3.1.2.3: User Name 0x80 + Password 0x40 + Clean Start 0x02
        b"\x00\x3c\x00"  # Keep Alive 60 s, no properties
        b"\x00\x02c1\x00\x01u\x00\x01p"  # client id, user name, password
    )
    assert rawmqtt.encode_connect("c1", "u", "p", 60) == expected


def test_connect_without_credentials_sets_only_clean_start() -> None:
    packet = rawmqtt.encode_connect("c", None, None, 30)
    assert packet == bytes([0x10, 14, 0, 4, *b"MQTT", 5, 0x02, 0, 30, 0, 0, 1, *b"c"])


def test_publish_carries_qos1_topic_packet_id_empty_properties_and_payload() -> None:
    expected = (
        b"\x32\x0a"  # PUBLISH, QoS 1 (flags 0b0010), Remaining Length 2+3+2+1+2
        b"\x00\x03a/b"  # topic
        b"\x00\x0a"  # packet identifier 10
        b"\x00"  # property length 0 (§3.3.2.3)
        b"hi"
    )
    assert rawmqtt.encode_publish("a/b", 10, b"hi") == expected


def test_publish_with_a_two_byte_remaining_length() -> None:
    payload = b"x" * 200
    packet = rawmqtt.encode_publish("t", 0xABCD, payload)
    remaining = 2 + 1 + 2 + 1 + 200  # 206 = 0x4E + 1 * 128
    assert packet[:3] == bytes([0x32, 0xCE, 0x01])
    assert packet[3:9] == bytes([0x00, 0x01, *b"t", 0xAB, 0xCD, 0x00])
    assert packet[9:] == payload and len(packet) == 3 + remaining


def test_the_template_packet_equals_the_packet_encoded_from_the_rendered_payload() -> None:
    device, second = payloads.device_id(7), 1_800_000_000
    template = payloads.wearable_template(device, 7)
    seq, ts = payloads.wearable_seq(second), payloads.rfc3339_ms(second).encode()
    topic = payloads.frame_topic(device)
    packet_template = rawmqtt.PacketTemplate(topic, template)
    out = bytearray(b"previous")
    packet_template.write(out, 513, str(seq).encode(), ts)
    packet_template.write(out, 65535, str(seq + 1).encode(), ts)
    first = rawmqtt.encode_publish(topic, 513, template.render(seq, ts))
    second_packet = rawmqtt.encode_publish(topic, 65535, template.render(seq + 1, ts))
    assert bytes(out) == b"previous" + first + second_packet
    assert len(template.render(seq, ts)) > 2000  # a real frame: the remaining length takes two bytes


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\x00\x2a", (42, 0x00)),  # §3.4.2.1: Remaining Length 2, Success implied
        (b"\x00\x2a\x00", (42, 0x00)),
        (b"\x01\x00\x87", (256, 0x87)),  # Not authorized, property length omitted
        (b"\xff\xff\x10\x00", (65535, 0x10)),  # No matching subscribers, property length 0
    ],
)
def test_puback_gives_packet_id_and_reason_code(body: bytes, expected: tuple[int, int]) -> None:
    assert rawmqtt.parse_puback(body) == expected


def test_connack_reads_receive_maximum_and_defaults_it_to_65535() -> None:
    # Mosquitto 2.0's answer: Topic Alias Maximum 10, Maximum Packet Size 262144, Receive Maximum 1000.
    body = bytes([0x00, 0x00, 11, 0x22, 0x00, 0x0A, 0x27, 0x00, 0x04, 0x00, 0x00, 0x21, 0x03, 0xE8])
    connack = rawmqtt.parse_connack(body)
    assert connack.reason_code == 0 and not connack.session_present
    assert connack.receive_maximum == 1000 and connack.properties[0x27] == 262_144
    assert rawmqtt.parse_connack(b"\x01\x00\x00").receive_maximum == 65_535
    refused = rawmqtt.parse_connack(bytes([0x00, 0x86, 6, 0x1F, 0x00, 0x03, *b"bad"]))
    assert refused.reason_code == 0x86 and refused.properties[0x1F] == "bad"


def test_disconnect_with_and_without_reason_code() -> None:
    assert rawmqtt.parse_disconnect(b"") == (0x00, None)
    assert rawmqtt.parse_disconnect(b"\x8e") == (0x8E, None)
    assert rawmqtt.parse_disconnect(bytes([0x97, 5, 0x1F, 0, 2, *b"no"])) == (0x97, "no")


def test_the_refusal_names_the_reason_code() -> None:
    assert (
        str(rawmqtt.ConnectRefused(0x86)) == "the broker refused the connection: CONNACK 0x86 Bad User Name or Password"
    )


def test_a_property_block_longer_than_its_packet_is_malformed() -> None:
    with pytest.raises(rawmqtt.MqttError, match="longer than its packet"):
        rawmqtt.parse_connack(bytes([0x00, 0x00, 5, 0x21, 0x03]))
