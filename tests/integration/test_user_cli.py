"""``vigie user add``: how a fresh deployment gets its first administrator (no admin token exists yet)."""

from __future__ import annotations

import io

import httpx
import pytest

from gateway import cli
from gateway.runtime.mosquitto import MosquittoBroker
from tests.gateway_harness import running_gateway

pytestmark = pytest.mark.integration


def test_the_first_admin_created_on_the_command_line_can_sign_in_and_manage_users(
    broker: MosquittoBroker, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "add", "chef", "--role", "admin", "--database-url", database_url]) == 0
    printed = capsys.readouterr().out
    password = printed.split("password: ", 1)[1].strip()
    assert len(password) >= 12
    with running_gateway(broker.url, database_url) as gateway:
        base = f"http://127.0.0.1:{gateway.settings.http_port}/api/v1"
        token = httpx.post(f"{base}/auth/token", data={"username": "chef", "password": password}).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/me", headers=headers).json()["role"] == "admin"
        created = httpx.put(f"{base}/users/cheffe", headers=headers,
                            json={"password": "a long enough secret", "role": "supervisor", "crew_ids": ["crew-01"]})
        assert created.status_code == 200, created.text
        wrong = httpx.post(f"{base}/auth/token", data={"username": "chef", "password": "not the password at all"})
        assert wrong.status_code == 401


def test_a_password_given_on_stdin_must_be_long_enough(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "chef", "--role", "admin", "--password-stdin", "--database-url", database_url]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("twelve chars or more\n"))
    assert cli.main(["user", "add", "pat", "--role", "agent", "--agent-id", "agent-7", "--password-stdin",
                     "--database-url", database_url]) == 2  # fmt: skip
    assert "no agent 'agent-7'" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("twelve chars or more\n"))
    assert cli.main(["user", "add", "pat", "--role", "safety_officer", "--password-stdin",
                     "--database-url", database_url]) == 0  # fmt: skip
    assert "password:" not in capsys.readouterr().out  # the operator typed it: not echoed
