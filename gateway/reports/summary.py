"""One agent's period at a glance: the maxima, totals and threshold-day counts of the summary table.

Only reads what the API judged (``lower_action_reached``, ``limit_exceeded``...): nothing is re-judged here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Day = Mapping[str, Any]

FLAG_ORDER = ("N1", "N2", "NL", "V1", "VL", "W1", "WL", "H", "T")
"""Threshold codes of the summary table, in print order (legends in ``pdf_report``)."""

_FLAG_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("N1", "noise", "lower_action_reached"),
    ("N2", "noise", "upper_action_reached"),
    ("NL", "noise", "limit_exceeded"),
    ("V1", "hav", "action_reached"),
    ("VL", "hav", "limit_exceeded"),
    ("W1", "wbv", "action_reached"),
    ("WL", "wbv", "limit_exceeded"),
)
LIMIT_FLAGS = frozenset({"NL", "VL", "WL"})


def section(day: Day, name: str) -> Mapping[str, Any] | None:
    """The ``name`` section of a day, or None when the API sent null (or nothing)."""
    part = day.get(name)
    return part if isinstance(part, Mapping) else None


def value(day: Day, name: str, key: str) -> float | None:
    """A numeric field of a section, or None (null section, null field, or not a number)."""
    part = section(day, name)
    raw = None if part is None else part.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return float(raw)


@dataclass(frozen=True, slots=True)
class AgentSummary:
    """An agent's row of the summary table and header of its page; None where no day had a value."""

    agent_id: str
    agent_name: str | None
    crew_id: str | None
    days: int
    worked_h: float
    lex_max_dba: float | None
    dose_max_pct: float | None
    peaks_over_135: int
    peaks_over_135_at_ear: int
    hav_a8_max_ms2: float | None
    hav_points_max: float | None
    wbv_a8_max_ms2: float | None
    wbgt_max_c: float | None
    minutes_over_ref: float
    psi_max: float | None
    core_temp_max_c: float | None
    lifts: int
    tonnage_kg: float
    avoided_kg: float
    nights: int
    flag_days: tuple[tuple[str, int], ...]
    """(code, number of days it was reached), codes in ``FLAG_ORDER``, only those reached at least once."""

    @property
    def display_name(self) -> str:
        """The name when the report is nominative, else the pseudonymous id."""
        return self.agent_name or self.agent_id

    @property
    def any_limit(self) -> bool:
        return any(code in LIMIT_FLAGS for code, _ in self.flag_days)


def by_agent(days: Iterable[Day]) -> dict[str, list[Day]]:
    """Days grouped per agent id (sorted), each agent's days sorted by date."""
    groups: dict[str, list[Day]] = {}
    for day in days:
        groups.setdefault(str(day["agent_id"]), []).append(day)
    return {agent: sorted(groups[agent], key=lambda d: str(d["date"])) for agent in sorted(groups)}


def summarise(agent_days: Sequence[Day]) -> AgentSummary:
    """Fold one agent's days (at least one) into its summary row."""
    if not agent_days:
        raise ValueError("summarise needs at least one day")
    first = agent_days[0]
    counts = dict.fromkeys(FLAG_ORDER, 0)
    for day in agent_days:
        for code, name, key in _FLAG_FIELDS:
            part = section(day, name)
            counts[code] += int(part is not None and part.get(key) is True)
        counts["H"] += int((value(day, "heat", "minutes_over_ref") or 0.0) > 0.0)
        counts["T"] += int((value(day, "lifting", "tonnage_share") or 0.0) >= 1.0)
    night_days = sum(1 for d in agent_days if (section(d, "night") or {}).get("worked") is True)
    return AgentSummary(
        agent_id=str(first["agent_id"]),
        agent_name=first.get("agent_name"),
        crew_id=first.get("crew_id"),
        days=len(agent_days),
        worked_h=sum(float(d.get("worked_h") or 0.0) for d in agent_days),
        lex_max_dba=_max(value(d, "noise", "lex_8h_dba") for d in agent_days),
        dose_max_pct=_max(value(d, "noise", "dose_pct") for d in agent_days),
        peaks_over_135=_sum_int(agent_days, "noise", "peaks_over_135"),
        peaks_over_135_at_ear=_sum_int(agent_days, "noise", "peaks_over_135_at_ear"),
        hav_a8_max_ms2=_max(value(d, "hav", "a8_ms2") for d in agent_days),
        hav_points_max=_max(value(d, "hav", "points") for d in agent_days),
        wbv_a8_max_ms2=_max(value(d, "wbv", "a8_ms2") for d in agent_days),
        wbgt_max_c=_max(value(d, "heat", "wbgt_max_c") for d in agent_days),
        minutes_over_ref=sum(value(d, "heat", "minutes_over_ref") or 0.0 for d in agent_days),
        psi_max=_max(value(d, "heat", "psi_max") for d in agent_days),
        core_temp_max_c=_max(value(d, "heat", "core_temp_max_c") for d in agent_days),
        lifts=_sum_int(agent_days, "lifting", "count"),
        tonnage_kg=sum(value(d, "lifting", "tonnage_kg") or 0.0 for d in agent_days),
        avoided_kg=sum(value(d, "lifting", "avoided_kg") or 0.0 for d in agent_days),
        nights=night_days,
        flag_days=tuple((code, counts[code]) for code in FLAG_ORDER if counts[code]),
    )


def _max(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _sum_int(days: Sequence[Day], name: str, key: str) -> int:
    return int(sum(value(d, name, key) or 0.0 for d in days))
