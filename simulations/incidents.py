"""Scripted incidents (``--sos 3@120``, ``--fall agent-0002@60``): what the demo and the tests rely on.

Incidents are data, not randomness: an alert the demo shows must happen at the second it was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulations.roster import Roster


@dataclass(frozen=True, slots=True)
class IncidentSpec:
    """``AGENT@SECONDS`` as typed: ``agent`` is a 0-based roster index, an agent id or a device id."""

    agent: str
    t_s: int


@dataclass(frozen=True, slots=True)
class Incidents:
    """Resolved incidents: ``(agent_index, t_s)`` pairs."""

    sos: frozenset[tuple[int, int]] = frozenset()
    falls: frozenset[tuple[int, int]] = frozenset()

    def sos_agents_at(self, t_s: int) -> list[int]:
        return sorted(agent for agent, t in self.sos if t == t_s)

    def falls_at(self, t_s: int) -> list[int]:
        return sorted(agent for agent, t in self.falls if t == t_s)


def parse_incident(text: str) -> IncidentSpec:
    """Parse ``AGENT@SECONDS``; raises ``ValueError`` (argparse turns it into a usage error)."""
    agent, sep, seconds = text.partition("@")
    if not sep or not agent or not seconds.strip().isdigit():
        raise ValueError(f"expected AGENT_INDEX@SECONDS (e.g. 3@120), got {text!r}")
    return IncidentSpec(agent.strip(), int(seconds))


def resolve(roster: Roster, sos: list[IncidentSpec], falls: list[IncidentSpec]) -> Incidents:
    """Map agent references to roster indices; an unknown agent is a ``KeyError`` naming it."""
    return Incidents(
        sos=frozenset((roster.agent_index(s.agent), s.t_s) for s in sos),
        falls=frozenset((roster.agent_index(f.agent), f.t_s) for f in falls),
    )
