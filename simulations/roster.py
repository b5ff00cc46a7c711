"""Who is simulated: agents, their wearables, their crews and work areas, and the robots working with them.

The roster is the only part of the simulation the gateway must also know about (``seed.seed_roster``
registers it), so it is plain data, deterministic for a seed, with the ids the gateway will see.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

AGENTS_PER_CREW = 8
GARDENER_EAR_PROTECTION_DB = 15.0
"""Gardeners trim hedges and blow leaves at about 90 dB(A), above the upper action value (85 dB(A), R4431-2) where
hearing protection is compulsory: they wear ear defenders, 15 dB as worn (an SNR of about 25 dB derated for real
use, as EN 458 advises). Collectors in the street stay below and wear none."""
SITE_ID = "paris"  # the gateway's site (sites table): Ville de Paris, Europe/Paris days


class Team(StrEnum):
    COLLECTORS = "collectors"
    GARDENERS = "gardeners"


class RobotKind(StrEnum):
    FOLLOWER = "follower"
    MOWER = "mower"
    EXOSKELETON = "exoskeleton"


@dataclass(frozen=True, slots=True)
class Area:
    """Where a crew works: a street district (collectors) or a park (gardeners), with its centre.

    Not the gateway's ``site`` (the employer's site, which sets the regulatory time zone): every simulated
    crew belongs to ``SITE_ID``; areas only place the crews on the map.
    """

    area_id: str
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Crew:
    crew_id: str
    team: Team
    area: Area
    agent_indices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """One worker and the wearable they carry; ``tool_id`` is the hand-held tool they may use (ISO 5349)."""

    index: int
    agent_id: str
    display_name: str
    crew_id: str
    team: Team
    site_id: str
    area_id: str
    device_id: str
    tool_id: str
    hearing_attenuation_db: float = 0.0  # hearing protection as worn (the gateway's at-ear noise, ISO 9612)


@dataclass(frozen=True, slots=True)
class RobotSpec:
    """A robot and the human it works with: the collector a follower trails, the wearer of an exoskeleton."""

    robot_id: str
    kind: RobotKind
    crew_id: str
    companion_index: int | None


@dataclass(frozen=True, slots=True)
class Roster:
    agents: tuple[AgentSpec, ...]
    crews: tuple[Crew, ...]
    robots: tuple[RobotSpec, ...]

    def crew(self, crew_id: str) -> Crew:
        for crew in self.crews:
            if crew.crew_id == crew_id:
                return crew
        raise KeyError(crew_id)

    def agent_index(self, ref: str) -> int:
        """Resolve ``"3"`` (0-based index) or ``"agent-0004"`` / ``"wear-0004"`` to an agent index."""
        if ref.isdigit():
            index = int(ref)
            if index >= len(self.agents):
                raise KeyError(f"agent index {index} out of range (roster has {len(self.agents)} agents)")
            return index
        for agent in self.agents:
            if ref in (agent.agent_id, agent.device_id):
                return agent.index
        raise KeyError(ref)


# Street districts around Paris centre (48.85 N, 2.35 E) for collectors; parks for gardeners.
STREET_AREAS: tuple[Area, ...] = (
    Area("paris-04", 48.8545, 2.3576, 600.0),
    Area("paris-05", 48.8445, 2.3471, 600.0),
    Area("paris-03", 48.8630, 2.3601, 500.0),
    Area("paris-11", 48.8591, 2.3795, 800.0),
    Area("paris-12", 48.8412, 2.3876, 800.0),
    Area("paris-13", 48.8322, 2.3561, 800.0),
    Area("paris-06", 48.8491, 2.3328, 600.0),
    Area("paris-10", 48.8761, 2.3607, 700.0),
)
PARK_AREAS: tuple[Area, ...] = (
    Area("jardin-des-plantes", 48.8440, 2.3590, 180.0),
    Area("jardin-du-luxembourg", 48.8462, 2.3372, 250.0),
    Area("parc-des-buttes-chaumont", 48.8809, 2.3828, 250.0),
    Area("parc-montsouris", 48.8222, 2.3381, 200.0),
    Area("parc-de-bercy", 48.8354, 2.3850, 200.0),
    Area("square-du-temple", 48.8645, 2.3607, 60.0),
)
FIRST_NAMES: tuple[str, ...] = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma", "Zoé", "Clara", "Yasmine",
    "Nadia", "Aïcha", "Sophie", "Élodie", "Fatou", "Lucas", "Hugo", "Louis", "Théo", "Nathan", "Karim",
    "Mehdi", "Julien", "Thomas", "Antoine", "Mamadou", "Youssef", "Nicolas", "Sébastien", "Éric",
    "Moussa", "Kévin", "Bruno", "Pascal", "Rachid", "Olivier", "Franck", "Dylan", "Sami",
)
INITIALS = "ABCDEFGHIJKLMNOPRSTVZ"


def _team_for(crew_number: int) -> Team:
    """Crews alternate collectors / gardeners, so any roster of 9+ agents has both kinds of work."""
    return Team.COLLECTORS if crew_number % 2 == 1 else Team.GARDENERS


def _robot_kind(team: Team, nth_in_crew: int) -> RobotKind:
    if nth_in_crew % 2 == 1:
        return RobotKind.EXOSKELETON
    return RobotKind.FOLLOWER if team is Team.COLLECTORS else RobotKind.MOWER


def make_roster(n_agents: int, n_robots: int, seed: int) -> Roster:
    """Build ``n_agents`` agents in crews of eight and ``n_robots`` robots spread over those crews.

    Ids are stable for a given size (``agent-0001``, ``wear-0001``, ``crew-01``, ``robot-01``); names and
    tools depend on ``seed`` only, so the same command line always registers the same people.
    """
    if n_agents < 1:
        raise ValueError("a roster needs at least one agent")
    if n_robots < 0:
        raise ValueError("n_robots must be >= 0")
    rng = np.random.default_rng([seed, 0xC0DE])
    n_crews = -(-n_agents // AGENTS_PER_CREW)
    counters = {Team.COLLECTORS: 0, Team.GARDENERS: 0}
    crews: list[Crew] = []
    for number in range(1, n_crews + 1):
        team = _team_for(number)
        areas = STREET_AREAS if team is Team.COLLECTORS else PARK_AREAS
        area = areas[counters[team] % len(areas)]
        counters[team] += 1
        first = (number - 1) * AGENTS_PER_CREW
        members = tuple(range(first, min(first + AGENTS_PER_CREW, n_agents)))
        crews.append(Crew(f"crew-{number:02d}", team, area, members))

    names = rng.integers(0, len(FIRST_NAMES), n_agents)
    initials = rng.integers(0, len(INITIALS), n_agents)
    hedge_trimmer = rng.random(n_agents) < 0.5
    agents: list[AgentSpec] = []
    for crew in crews:
        for i in crew.agent_indices:
            # Collectors only ever use a blower to clear the pavement; gardeners trim hedges or blow leaves.
            tool = "ht" if crew.team is Team.GARDENERS and hedge_trimmer[i] else "lb"
            agents.append(AgentSpec(
                index=i,
                agent_id=f"agent-{i + 1:04d}",
                display_name=f"{FIRST_NAMES[names[i]]} {INITIALS[initials[i]]}.",
                crew_id=crew.crew_id,
                team=crew.team,
                site_id=SITE_ID,
                area_id=crew.area.area_id,
                device_id=f"wear-{i + 1:04d}",
                tool_id=f"{tool}-{i + 1:04d}",
                hearing_attenuation_db=GARDENER_EAR_PROTECTION_DB if crew.team is Team.GARDENERS else 0.0,
            ))

    robots: list[RobotSpec] = []
    for r in range(n_robots):
        crew = crews[r % n_crews]
        nth = r // n_crews
        kind = _robot_kind(crew.team, nth)
        companion = None if kind is RobotKind.MOWER else crew.agent_indices[nth % len(crew.agent_indices)]
        robots.append(RobotSpec(f"robot-{r + 1:02d}", kind, crew.crew_id, companion))
    return Roster(tuple(agents), tuple(crews), tuple(robots))
