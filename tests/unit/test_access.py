"""Roles and scopes (services/access.py), who reads which weak signal, and the refusal of placeholder secrets
outside demo mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings
from services.access import (
    Principal,
    Role,
    crew_filter,
    may_read_signal,
    may_review_signal,
    may_see_agent,
    may_see_subject,
    pseudonym,
    shown_name,
    shown_signal_subject,
)
from services.signals.model import SubjectKind

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


AGENT_KIND, CREW_KIND, SITE_KIND, ROBOT_KIND = SubjectKind.AGENT, SubjectKind.CREW, SubjectKind.SITE, SubjectKind.ROBOT
ADMIN = Principal("ad", Role.ADMIN)


def reads(principal: Principal, kind: SubjectKind, subject_id: str, site_id: str | None = "paris",
          crew_id: str | None = "c1", reader_sites: frozenset[str] = frozenset()) -> bool:  # fmt: skip
    return may_read_signal(principal, kind, subject_id, site_id=site_id, crew_id=crew_id, reader_sites=reader_sites)


def test_an_agent_reads_their_own_individual_signals_and_nobody_else_s():
    assert reads(AGENT, AGENT_KIND, "ag1")
    assert not reads(AGENT, AGENT_KIND, "ag2")  # a colleague, even of the same crew and site
    assert not reads(Principal("a", Role.AGENT), AGENT_KIND, "ag1")  # an agent account tied to no agent
    for kind, subject in ((CREW_KIND, "c1"), (SITE_KIND, "paris"), (ROBOT_KIND, "r1")):
        assert not reads(AGENT, kind, subject), kind  # group signals are for the staff


def test_individual_signals_go_to_the_named_readers_of_the_agent_site_only():
    for staff in (ADMIN, OFFICER):
        assert reads(staff, AGENT_KIND, "ag1", reader_sites=frozenset({"paris"})), staff.role
        assert not reads(staff, AGENT_KIND, "ag1"), staff.role  # not named: not even an admin
        assert not reads(staff, AGENT_KIND, "ag1", reader_sites=frozenset({"lyon"})), staff.role
        assert not reads(staff, AGENT_KIND, "ag1", site_id=None, reader_sites=frozenset({"paris"})), staff.role


def test_admins_and_officers_read_every_crew_site_and_robot_signal_without_being_named():
    for staff in (ADMIN, OFFICER):
        for kind, subject in ((CREW_KIND, "c9"), (SITE_KIND, "lyon"), (ROBOT_KIND, "r9")):
            assert reads(staff, kind, subject, site_id=None, crew_id=None), (staff.role, kind)


def test_a_supervisor_reads_the_crew_and_robot_signals_of_their_own_crews_only():
    assert reads(SUP, CREW_KIND, "c1")
    assert not reads(SUP, CREW_KIND, "c2", crew_id="c2")
    assert reads(SUP, ROBOT_KIND, "r1", crew_id="c1")  # a robot of their crew
    assert not reads(SUP, ROBOT_KIND, "r2", crew_id="c2")
    assert not reads(SUP, ROBOT_KIND, "r3", crew_id=None)  # a robot of no crew is not theirs
    assert not reads(SUP, SITE_KIND, "paris")  # a site is more than their crews
    # Never an individual: no ranking of their agents, even named reader of the site.
    assert not reads(SUP, AGENT_KIND, "ag1", crew_id="c1", reader_sites=frozenset({"paris"}))


def test_machines_read_no_signal():
    for role in (Role.DEVICE, Role.ROBOT):
        machine = Principal("m", role, subject_id="x")
        for kind in SubjectKind:
            assert not reads(machine, kind, "ag1", reader_sites=frozenset({"paris"})), (role, kind)


def reviews(principal: Principal, kind: SubjectKind, subject_id: str, crew_id: str | None = "c1",
            reader_sites: frozenset[str] = frozenset()) -> bool:  # fmt: skip
    return may_review_signal(principal, kind, subject_id, site_id="paris", crew_id=crew_id, reader_sites=reader_sites)


def test_the_staff_who_read_a_signal_record_its_follow_up_and_its_agent_does_not():
    for role in Role:
        principal = Principal("p", role, frozenset({"c1"}), agent_id="ag1", subject_id="x")
        for kind, subject in ((AGENT_KIND, "ag1"), (CREW_KIND, "c1"), (SITE_KIND, "paris"), (ROBOT_KIND, "r1")):
            for named in (frozenset(), frozenset({"paris"})):
                readable = reads(principal, kind, subject, reader_sites=named)
                expected = readable and role in (Role.ADMIN, Role.SAFETY_OFFICER, Role.SUPERVISOR)
                assert reviews(principal, kind, subject, reader_sites=named) == expected, (role, kind, named)
    assert reads(AGENT, AGENT_KIND, "ag1") and not reviews(AGENT, AGENT_KIND, "ag1")
    assert reviews(SUP, ROBOT_KIND, "r1") and not reviews(SUP, ROBOT_KIND, "r2", crew_id="c2")


def test_a_signal_agent_is_pseudonymised_unless_the_reader_sees_names():
    alias = pseudonym("ag1", b"k")
    assert shown_signal_subject(OFFICER, AGENT_KIND, "ag1", "Ana", b"k") == (alias, alias)
    named = Principal("o", Role.SAFETY_OFFICER, names_allowed=True)
    assert shown_signal_subject(named, AGENT_KIND, "ag1", "Ana", b"k") == ("ag1", "Ana")
    assert shown_signal_subject(AGENT, AGENT_KIND, "ag1", "Ana", b"k") == ("ag1", "Ana")
    assert shown_signal_subject(OFFICER, CREW_KIND, "c1", "Round 1", b"k") == ("c1", "Round 1")
    assert shown_signal_subject(OFFICER, ROBOT_KIND, "r1", None, b"k") == ("r1", None)


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
