"""MQTT account hashing and ACL rendering (gateway/mqtt/accounts.py)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from gateway.mqtt.accounts import AccountKind, MqttAccount, mosquitto_hash, new_password, render_acl, verify


def test_our_hash_verifies_and_a_wrong_password_does_not():
    hashed = mosquitto_hash("s3cret")
    assert hashed.startswith("$7$101$")
    assert verify("s3cret", hashed)
    assert not verify("s3cret!", hashed)
    assert not verify("s3cret", "not a hash")


def test_hashes_written_by_mosquitto_passwd_are_the_same_format(tmp_path: Path):
    # mosquitto_passwd comes with Debian's mosquitto, which `make install` installs.
    # Same salt, same iterations: our hash must equal the stock tool's, byte for byte.
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(tmp_path / "pw"), "alice", "s3cret"], check=True)
    line = (tmp_path / "pw").read_text().strip().split(":", 1)[1]
    assert verify("s3cret", line)
    _, _, iterations, salt_b64, _ = line.split("$")
    assert mosquitto_hash("s3cret", base64.b64decode(salt_b64), int(iterations)) == line


def test_generated_passwords_are_long_and_distinct():
    passwords = {new_password() for _ in range(100)}
    assert len(passwords) == 100 and min(map(len, passwords)) >= 32


def test_acl_gives_each_account_only_its_own_topics():
    acl = render_acl([MqttAccount("w1", AccountKind.WEARABLE, "$7$x"), MqttAccount("r1", AccountKind.ROBOT, "$7$x")])
    blocks = {block.split("\n")[1]: block for block in acl.split("\n\n")[1:]}
    assert blocks["user w1"].splitlines()[2:] == ["topic write vigie/v1/wearables/w1/frame",
                                                  "topic write vigie/v1/wearables/w1/status"]  # fmt: skip
    assert blocks["user r1"].splitlines()[2:] == ["topic write vigie/v1/robots/r1/state",
                                                  "topic read vigie/v1/robots/r1/command"]  # fmt: skip
    assert "%u" not in acl and "pattern" not in acl
