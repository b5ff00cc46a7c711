"""Who may see and do what: roles, principals, and the scoping rules applied to every read.

Vigie holds health and location data about public employees (GDPR art. 9: health data is a special category),
so access follows need to know:

- ``admin`` configures the service (registry, rules, accounts); sees everything.
- ``supervisor`` runs the shift of *their crews*: live board, alerts, exposure of their agents, nothing else.
- ``safety_officer`` analyses exposure across crews; agents are pseudonymised unless the officer is named as
  authorised for names (e.g. the occupational physician's correspondent).
- ``agent`` sees only their own data and reports (GDPR art. 15, right of access).
- ``device`` and ``robot`` are machines: they speak MQTT, and have no business reading the HTTP API.

Weak signals (issue 9) follow the same need to know, tighter for individuals: crew, site and robot signals are for
admins and safety officers, and for a supervisor's own crews (crew and robot signals only); an agent's individual
signal is for the agent themself and for the people named signal readers of the agent's site, nobody else.

Pure functions of their inputs; the gateway's adapters translate tokens into a :class:`Principal` and apply
these rules to their queries.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from services.signals.model import SubjectKind


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    SAFETY_OFFICER = "safety_officer"
    AGENT = "agent"
    DEVICE = "device"
    ROBOT = "robot"


HUMAN_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.SAFETY_OFFICER, Role.AGENT})
MACHINE_ROLES = frozenset({Role.DEVICE, Role.ROBOT})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``crew_ids`` scopes a supervisor; ``agent_id`` ties an agent to their record;
    ``subject_id`` is the device or robot id of a machine key."""

    subject: str
    role: Role
    crew_ids: frozenset[str] = field(default_factory=frozenset)
    agent_id: str | None = None
    names_allowed: bool = False
    subject_id: str | None = None

    @property
    def sees_all_crews(self) -> bool:
        return self.role in (Role.ADMIN, Role.SAFETY_OFFICER)

    @property
    def sees_names(self) -> bool:
        """Whether agents' names are shown as they are (else as pseudonyms)."""
        return self.role in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT) or self.names_allowed


def crew_filter(principal: Principal) -> frozenset[str] | None:
    """The crews a list may show: None for all crews, else this set (possibly empty)."""
    if principal.sees_all_crews:
        return None
    if principal.role is Role.SUPERVISOR:
        return principal.crew_ids
    return frozenset()


def may_see_agent(principal: Principal, agent_id: str, agent_crew_id: str | None) -> bool:
    """Whether the principal may read this agent's data (health, exposure, position, alerts)."""
    if principal.sees_all_crews:
        return True
    if principal.role is Role.SUPERVISOR:
        return agent_crew_id is not None and agent_crew_id in principal.crew_ids
    if principal.role is Role.AGENT:
        return principal.agent_id is not None and principal.agent_id == agent_id
    return False


def may_see_subject(principal: Principal, agent_id: str | None, crew_id: str | None) -> bool:
    """Whether an event about an agent (or, with no agent, about a robot of ``crew_id``) is for this principal."""
    if agent_id is not None:
        return may_see_agent(principal, agent_id, crew_id)
    if principal.sees_all_crews:
        return True
    return principal.role is Role.SUPERVISOR and crew_id is not None and crew_id in principal.crew_ids


def may_see_crew(principal: Principal, crew_id: str) -> bool:
    if principal.sees_all_crews:
        return True
    return principal.role is Role.SUPERVISOR and crew_id in principal.crew_ids


def pseudonym(agent_id: str, key: bytes) -> str:
    """A stable pseudonym for an agent (GDPR art. 4(5)): keyed HMAC-SHA256, so it cannot be reversed or
    recomputed without the key, yet the same agent keeps the same pseudonym across reports."""
    digest = hmac.new(key, agent_id.encode(), hashlib.sha256).hexdigest()
    return f"agent-{digest[:10]}"


def shown_name(principal: Principal, agent_id: str, display_name: str | None, key: bytes) -> str | None:
    """The agent's name as this principal may see it."""
    if principal.sees_names:
        return display_name
    return pseudonym(agent_id, key)


def may_read_signal(principal: Principal, subject_kind: SubjectKind, subject_id: str, *, site_id: str | None,
                    crew_id: str | None, reader_sites: Collection[str]) -> bool:  # fmt: skip
    """Whether a weak signal about this subject is for the principal at all (the minimum group size comes after).

    ``site_id`` and ``crew_id`` are where the subject belongs (None when unknown); ``reader_sites`` the sites the
    principal is named signal reader of. An individual signal goes to the agent themself and to the site's named
    readers, nobody else — not even an admin, who may name themself (audited) if need be; a supervisor reads the
    crew and robot signals of their own crews, never an individual's (no ranking of their agents) nor a site's.
    """
    individual = subject_kind is SubjectKind.AGENT
    if principal.role in (Role.ADMIN, Role.SAFETY_OFFICER):
        return not individual or (site_id is not None and site_id in reader_sites)
    if principal.role is Role.SUPERVISOR:
        if subject_kind is SubjectKind.CREW:
            return subject_id in principal.crew_ids
        if subject_kind is SubjectKind.ROBOT:
            return crew_id is not None and crew_id in principal.crew_ids
        return False
    if principal.role is Role.AGENT:
        return individual and principal.agent_id is not None and subject_id == principal.agent_id
    return False


def may_review_signal(principal: Principal, subject_kind: SubjectKind, subject_id: str, *, site_id: str | None,
                      crew_id: str | None, reader_sites: Collection[str]) -> bool:  # fmt: skip
    """Whether the principal may record the follow-up of a flagged signal (services/signals/review.py): the staff
    who may read it. Not the agent themself: a review is the prevention side's account of what it did, and an
    agent who reads their own signal sees that review, they do not write it."""
    if principal.role not in (Role.ADMIN, Role.SAFETY_OFFICER, Role.SUPERVISOR):
        return False
    return may_read_signal(principal, subject_kind, subject_id, site_id=site_id, crew_id=crew_id,
                           reader_sites=reader_sites)  # fmt: skip


def shown_signal_subject(principal: Principal, subject_kind: SubjectKind, subject_id: str, label: str | None,
                         key: bytes) -> tuple[str, str | None]:  # fmt: skip
    """A signal's subject id and label as the principal may see them: an agent pseudonymised (both) unless the
    principal sees names; crews, sites and robots as they are."""
    if subject_kind is SubjectKind.AGENT and not principal.sees_names:
        alias = pseudonym(subject_id, key)
        return alias, alias
    return subject_id, label
