"""Roles and scopes (services/access.py) and the refusal of placeholder secrets outside demo mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings
from services.access import Principal, Role, crew_filter, may_see_agent, may_see_subject, pseudonym, shown_name

SUP = Principal("s", Role.SUPERVISOR, frozenset({"c1"}))
AGENT = Principal("a", Role.AGENT, agent_id="ag1")
OFFICER = Principal("o", Role.SAFETY_OFFICER)


def test_a_supervisor_sees_agents_of_their_crews_only():
    assert may_see_agent(SUP, "ag1", "c1") and not may_see_agent(SUP, "ag2", "c2")
    assert not may_see_agent(SUP, "ag3", None)  # an agent without a crew is nobody's to watch
    assert crew_filter(SUP) == frozenset({"c1"})


def test_an_agent_sees_only_themself_and_no_robot_events():
    assert may_see_agent(AGENT, "ag1", "c1") and not may_see_agent(AGENT, "ag2", "c1")
    assert not may_see_subject(AGENT, None, "c1")
    assert crew_filter(AGENT) == frozenset()


def test_machines_see_nothing():
    for role in (Role.DEVICE, Role.ROBOT):
        machine = Principal("m", role, subject_id="x")
        assert not may_see_agent(machine, "ag1", "c1") and not may_see_subject(machine, None, "c1")


def test_pseudonyms_are_stable_keyed_and_hide_the_name():
    assert pseudonym("ag1", b"k1") == pseudonym("ag1", b"k1") != pseudonym("ag1", b"k2")
    assert pseudonym("ag1", b"k1") != pseudonym("ag2", b"k1")
    assert shown_name(OFFICER, "ag1", "Ana", b"k") == pseudonym("ag1", b"k")
    named = Principal("o", Role.SAFETY_OFFICER, names_allowed=True)
    assert shown_name(named, "ag1", "Ana", b"k") == "Ana" == shown_name(SUP, "ag1", "Ana", b"k")


@pytest.mark.parametrize("secret", [None, "short", "changeme-changeme-changeme-changeme", "x" * 40,
                                    "vigie-secret-0123456789-abcdefghijklmnop"])  # fmt: skip
def test_production_refuses_missing_short_or_placeholder_secrets(secret):
    with pytest.raises(ValidationError):
        Settings(jwt_secret=secret, pseudonym_secret="Qm9zc2VzLWZvci1yZWFsLTIwMjYtcHJvZHVjdGlvbg")


def test_production_accepts_real_secrets_and_demo_generates_them():
    real = "h7Q2vL9xN4pR8sT1wY6zB3cF5gJ0kM2nP7qS9uV4"
    assert Settings(jwt_secret=real, pseudonym_secret=real[::-1]).jwt_secret_value == real
    demo_a, demo_b = Settings(mode="demo"), Settings(mode="demo")
    assert len(demo_a.jwt_secret_value) >= 32 and demo_a.jwt_secret_value != demo_b.jwt_secret_value
